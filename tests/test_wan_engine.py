"""The Wan graph end to end on CPU: a real ComfyUI runs the saved Wan workflow with tiny random models.

The tiny models make noise, not faces; what is proved is the wiring and the bookkeeping: ComfyUI's loaders accept
the files, every window runs through WanAnimateToVideo → KSampler → TrimVideoLatent → VAE decode, and the result
has the source's duration, rate and size, with the keep segments untouched.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from driver.comfy_client import ComfyClient
from driver.swap_job import SwapJob, run_swap_job
from driver.workflow import load_api_workflow, saved_workflow
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video
from ugc_swap.core.segment_plan import parse_segment_plan, resolve_plan
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader

from .conftest import psnr
from tools.tiny_wan import tiny_wan_workflow, write_tiny_models

PLAN = "0-2 swap, 2-3 keep, 3-4 swap"


@pytest.fixture(scope="module")
def short_video(media_dir):
    return write_sample_video(media_dir / "wan_4s.mp4", SampleVideoSpec(480, 270, Fraction(24), 4.0))


@pytest.fixture(scope="module")
def tiny_workflow(comfyui, tmp_path_factory):
    write_tiny_models(comfyui.base_dir / "models")
    path = tmp_path_factory.mktemp("wan") / "ugc_swap_wan_tiny.api.json"
    path.write_text(json.dumps(tiny_wan_workflow(load_api_workflow(saved_workflow("wan")))))
    return path


def test_wan_graph_runs_through_the_driver_with_engine_wan(comfyui, tiny_workflow, short_video, avatar_png,
                                                           tmp_path, monkeypatch):
    monkeypatch.setenv("UGC_SWAP_WORKFLOW_WAN", str(tiny_workflow))
    job = SwapJob(short_video, avatar_png, PLAN, engine="wan")
    outcome = run_swap_job(ComfyClient(comfyui.url), job, tmp_path, timeout_s=600)
    summary = outcome.summary
    assert summary["engine"] == "wan" and len(summary["segments_swapped"]) == 2
    assert summary["frames_with_face"] == summary["frames_swapped"] == 72
    source, result = probe_video(short_video), probe_video(outcome.output_path)
    assert (result.width, result.height, result.fps, result.frame_count) == (
        source.width, source.height, source.fps, source.frame_count)
    assert result.has_audio
    plan = resolve_plan(parse_segment_plan(PLAN), source.fps, source.frame_count)
    for keep in plan.keep_ranges:
        for before, after in zip(FrameReader(source, keep.start, keep.end), FrameReader(result, keep.start, keep.end)):
            assert psnr(before, after) > 35, "a keep segment changed"
    middle = plan.swap_ranges[0].start + 24
    before = next(iter(FrameReader(source, middle, middle + 1)))
    after = next(iter(FrameReader(result, middle, middle + 1)))
    with FaceAnalyzer() as analyzer:
        x0, y0, x1, y1 = (int(v) for v in analyzer.detect(before)[0].box)
    face_before, face_after = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
    assert psnr(face_before, face_after) < 25, "the face in the swap segment was not regenerated"
