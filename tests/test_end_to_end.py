"""The saved API workflow through a real ComfyUI server (CPU), judged on the output file alone."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from driver.comfy_client import ComfyClient
from driver.errors import ComfyValidationError
from driver.swap_job import SwapJob, build_graph, run_swap_job
from driver.workflow import FACE_REPLACE, STITCH, load_api_workflow
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN, parse_segment_plan, resolve_plan
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader

from .conftest import psnr
from .media_checks import audio_duration_s, video_stream_facts

PACK_NODES = {"UGCSwapSegmentPlan", "UGCSwapFaceReplace", "UGCSwapStitch", "UGCSwapQuality"}


@pytest.fixture(scope="module")
def client(comfyui):
    return ComfyClient(comfyui.url)


@pytest.fixture(scope="module")
def progress_messages():
    return []


@pytest.fixture(scope="module")
def default_job(client, sample_video, avatar_png, tmp_path_factory, progress_messages):
    def on_progress(node, value, maximum):
        progress_messages.append((node, value, maximum))

    return run_swap_job(client, SwapJob(sample_video, avatar_png), tmp_path_factory.mktemp("out"), timeout_s=900,
                        on_progress=on_progress)


def test_every_node_of_the_pack_is_registered_in_the_category(client):
    info = client.object_info()
    missing = PACK_NODES - set(info)
    assert not missing, f"node pack failed to load (see ComfyUI log): {missing}"
    assert {info[n]["category"] for n in PACK_NODES} == {"UGC Swap"}
    assert info["UGCSwapFaceReplace"]["output"][0] == "UGC_SWAPPED_SEGMENTS"


def test_output_matches_the_source_in_length_rate_size_and_audio(default_job, sample_video):
    source, output = video_stream_facts(sample_video), video_stream_facts(default_job.output_path)
    assert abs(output["frames"] - source["frames"]) <= 1
    assert output["fps"] == pytest.approx(source["fps"])
    assert (output["width"], output["height"]) == (source["width"], source["height"])
    assert output["duration_s"] == pytest.approx(source["duration_s"], abs=1 / source["fps"])
    assert audio_duration_s(default_job.output_path) == pytest.approx(audio_duration_s(sample_video), abs=0.05)


def test_long_nodes_drive_the_progress_bar(default_job, progress_messages):
    by_node = {}
    for node, value, maximum in progress_messages:
        by_node.setdefault(node, []).append((value, maximum))
    # The driver names each node by its title (progress_text.py turns the title into the step).
    face_replace, stitch = by_node.get(FACE_REPLACE, []), by_node.get(STITCH, [])
    assert face_replace and face_replace[-1] == (300, 300), "Face Replace reported no progress over its 300 frames"
    assert stitch and stitch[-1] == (900, 900), "Stitch reported no progress over the 900 frames"
    assert [v for v, _ in face_replace] == sorted(v for v, _ in face_replace)


def test_summary_reports_segments_and_faces(default_job):
    summary = default_job.summary
    assert [(s["start_s"], s["end_s"]) for s in summary["segments_swapped"]] == [(0.0, 5.0), (15.0, 20.0)]
    assert summary["frames_swapped"] == 300
    assert summary["frames_with_face"] >= 290
    assert summary["warnings"] == []
    # The sample has an IDR picture every 2 s: the untouched GOPs 6-14 s and 20-30 s are the source's own pictures,
    # and so is the start of the GOP the cut at 15 s falls in, up to its last closed B-frame group (frame 449).
    assert summary["stitch"] == {"frames_copied": 569, "frames_encoded": 331, "not_copied_because": None}


def test_the_graph_judges_its_own_swap_and_the_driver_reads_it_back(default_job):
    quality = default_job.quality
    identity = quality["identity"]
    assert [(s["start_s"], s["end_s"]) for s in identity["segments"]] == [(0.0, 5.0), (15.0, 20.0)]
    for segment in identity["segments"]:
        assert segment["frames_measured"] == 3, segment
        margins = [f - a for f, a in zip(segment["distances_to_filmed"], segment["distances_to_avatar"])]
        assert segment["margin"] == pytest.approx(float(np.median(margins)), abs=0.002), segment
    # The verdict follows the rule: this sample avatar (a hat brim and glasses left out of the swap) may not pass.
    poor = any(s["to_avatar"] > identity["threshold"] or s["margin"] < identity["min_margin"]
               for s in identity["segments"])
    assert identity["poor"] == poor and ("warning" in identity) == poor
    coverage = quality["coverage"]
    assert [(c["frames_with_face"], c["covered"], c["share"], c["shots"]) for c in coverage["segments"]] == [
        (150, 150, 1.0, 1), (150, 150, 1.0, 1)] and not coverage["low"]
    sheet = cv2.imread(str(default_job.sheet_path))
    assert sheet is not None and sheet.shape[0] > 6 * 200, "the sheet should hold six sampled frames"


def test_keep_segments_are_untouched_and_swap_segments_carry_the_avatar(default_job, sample_video):
    source_info, output_info = probe_video(sample_video), probe_video(default_job.output_path)
    plan = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), source_info.fps, source_info.frame_count)
    swap_frames = {r.start + offset for r in plan.swap_ranges for offset in (20, 50, 80, 110)}
    keep_frames = {r.start + 1 for r in plan.keep_ranges} | {(r.start + r.end) // 2 for r in plan.keep_ranges}
    swapped = []
    pairs = zip(FrameReader(source_info), FrameReader(output_info))
    for index, (before, after) in enumerate(pairs):
        if index in keep_frames:
            assert psnr(before, after) >= 35, f"keep frame {index} changed"
        if index in (300, 440, 750):  # inside copied pieces: the very same pictures
            assert np.array_equal(before, after), f"copied frame {index} changed"
        if index in swap_frames:
            changed = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 24
            assert changed.sum() > 400, f"swap frame {index}: face region did not change"
            swapped.append(after.copy())
    assert len(swapped) == len(swap_frames)


def test_video_without_a_face_comes_back_unchanged_with_a_warning(client, faceless_video, avatar_png, tmp_path):
    outcome = run_swap_job(client, SwapJob(faceless_video, avatar_png, "0-3 swap"), tmp_path, timeout_s=300)
    assert outcome.summary["frames_with_face"] == 0
    assert "no face was found" in outcome.summary["warnings"][0]
    for before, after in zip(FrameReader(probe_video(faceless_video)), FrameReader(probe_video(outcome.output_path))):
        assert psnr(before, after) >= 35


def test_avatar_without_a_face_fails_with_its_code(client, faceless_video, tmp_path):
    no_face = tmp_path / "no_face.png"
    cv2.imwrite(str(no_face), np.full((300, 300, 3), 200, np.uint8))
    with pytest.raises(UgcSwapError, match="no face found in the avatar photo") as caught:
        run_swap_job(client, SwapJob(faceless_video, no_face, "0-1 swap"), tmp_path, timeout_s=300)
    assert caught.value.code == "avatar_no_face"
    assert not list(tmp_path.glob("*.mp4"))


def test_bad_graph_inputs_come_back_as_errors_naming_what_is_wrong(client, faceless_video, avatar_png):
    video = client.upload_input(faceless_video, "rejected_video.mp4")
    avatar = client.upload_input(avatar_png, "rejected_avatar.png")
    with pytest.raises(ComfyValidationError, match="LoadVideo.*missing.mp4") as rejected:
        client.run(build_graph(SwapJob(faceless_video, avatar_png), "missing.mp4", avatar), timeout_s=30)
    assert rejected.value.code == "workflow_rejected"
    # ComfyUI 0.3.75 does not check V3 combo values before running, so the node itself refuses the engine.
    with pytest.raises(UgcSwapError, match="unknown engine 'nope'") as failed:
        client.run(build_graph(SwapJob(faceless_video, avatar_png, engine="nope"), video, avatar, load_api_workflow()),
                   timeout_s=60)
    assert failed.value.code == "unknown_engine"


def test_cli_runs_one_job_against_the_server(comfyui, faceless_video, avatar_png, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "driver", "--video", str(faceless_video), "--avatar", str(avatar_png),
         "--segments", "0-2 swap, 20-25 swap", "--comfy-url", comfyui.url, "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Result: " in result.stdout and "warning: no face was found" in result.stdout
    # The 8 s video has no 20-25 s: the plan is cut to it, and says so.
    assert "warning: segments: swap 20-25 s lies past the end of the 8.00 s video; left out" in result.stdout
    assert "Signed with a C2PA manifest by 'ugc-swap local (untrusted) signer'" in result.stdout
    assert "Before/after sheet: " in result.stdout and "identity not measured" in result.stdout
    assert len(list(tmp_path.glob("ugc_swap_*.mp4"))) == 1
