"""The invisible watermark: in the swapped frames only, invisible, and read back with its exact payload after what a
video goes through once it leaves the service; never found where it was not put. A representative slice of
bench/watermark_attacks.py (every attack, 1080p, 60 unmarked clips: docs/provenance.md)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.label import LabelSettings
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import YUV420, FrameReader
from ugc_swap.core.video.watermark import WatermarkSettings, mark_luma
from ugc_swap.core.video.watermark_find import FOUND_CONFIDENCE, find_marks
from ugc_swap.core.video.watermark_pattern import (bump_image, cell_chips, codeword, flip_sign, payload_for,
                                                   payload_hex, read_codeword)

from .watermark_clips import ATTACKS, Scene, attack, mark_segments, render, write_scene

RESULTS = Path(__file__).resolve().parent.parent / "output" / "test_results"
MARK = WatermarkSettings.for_text("recWM1:job-wm")
SEGMENTS = ((0.0, 5.0), (7.0, 12.0))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2)))


def test_the_payload_and_its_check_read_back_and_one_doubtful_bit_is_put_right():
    payload = payload_for("recX:job-1")
    assert payload == payload_for("recX:job-1") != payload_for("recX:job-2")
    soft = codeword(payload) * np.linspace(1.0, 2.0, 48)
    assert read_codeword(soft) == payload
    soft[5] = -0.1 * soft[5]  # one bit wrong, and the least certain
    assert read_codeword(soft) == payload
    soft[20] = -soft[20]  # a confident wrong bit besides: not guessed
    assert read_codeword(soft) is None
    rng = np.random.default_rng(0)
    passing = sum(read_codeword(rng.normal(size=48)) is not None for _ in range(3000))
    assert passing <= 5, f"{passing} of 3000 random readings passed the CRC"


def test_the_mark_is_invisible_on_texture_and_on_a_flat_wall():
    textured = cv2.cvtColor(render(Scene("coffee", "still"), 1920, 1080, 0.0), cv2.COLOR_RGB2GRAY)
    wall = cv2.cvtColor(render(Scene("wall", "still", face=None), 1920, 1080, 0.0), cv2.COLOR_RGB2GRAY)
    payload = MARK.payload
    marked_textured, marked_wall = mark_luma(textured, payload, 0.0), mark_luma(wall, payload, 0.0)
    assert _psnr(marked_textured, textured) >= 42.0 and _psnr(marked_wall, wall) >= 42.0
    wall_change = marked_wall.astype(int) - wall
    assert np.abs(wall_change).max() <= 2, "more than 2 levels on a flat wall"
    # For the eye: the marked wall at 4x zoom beside its change amplified 40x (grey = none).
    RESULTS.mkdir(parents=True, exist_ok=True)
    crop = (slice(300, 480), slice(700, 1020))
    zoom = cv2.resize(marked_wall[crop], None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    change = np.clip(128 + 40 * wall_change[crop], 0, 255).astype(np.uint8)
    sheet = np.hstack([zoom, cv2.resize(change, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)])
    cv2.imwrite(str(RESULTS / "watermark_flat_wall.png"), sheet)


@pytest.fixture(scope="module")
def marked_clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("watermark")
    source = write_scene(folder / "handheld.mp4", Scene("chelsea", "handheld"), 1280, 720, 12.0, seed=3)
    return mark_segments(source, folder / "marked.mp4", SEGMENTS, MARK)


@pytest.mark.parametrize("name", ["360p + crf 32", "10 % centre crop + crf 28", "first 0.5 s cut"])
def test_each_segment_gives_back_the_exact_payload_after(name, marked_clip, tmp_path):
    _, arguments, cut_s = next(a for a in ATTACKS if a[0] == name)
    found = find_marks(attack(marked_clip, tmp_path / "attacked.mp4", arguments, cut_s)).marks
    assert [mark.payload for mark in found] == [payload_hex(MARK.payload)] * 2, found
    for mark, (start, _) in zip(found, SEGMENTS):
        assert abs(mark.start_s - (start - cut_s)) <= 0.1, found
        assert mark.confidence >= FOUND_CONFIDENCE


def test_unmarked_footage_shows_no_mark(tmp_path):
    scenes = [Scene("wall", "still"), Scene("rocket", "pan", None), Scene("coffee", "handheld", "astronaut", 3.0),
              Scene("immunohistochemistry", "zoom"), Scene("chelsea", "still", None, 2.5),
              Scene("astronaut", "handheld")]
    for index, scene in enumerate(scenes):
        clip = write_scene(tmp_path / f"plain{index}.mp4", scene, 640, 360, 8.0, seed=index)
        search = find_marks(attack(clip, tmp_path / f"plain{index}_crf28.mp4", ATTACKS[0][1], 0.0))
        assert not search.marks and search.best_confidence < FOUND_CONFIDENCE / 2, (scene, search)


@pytest.mark.parametrize("label", ["none", "whole"])
def test_a_job_marks_its_swapped_frames_only(label, tmp_path):
    """Both stitch paths: copied GOPs (label none) and everything encoded (a label on every frame)."""
    source = write_sample_video(tmp_path / "source.mp4", SampleVideoSpec(640, 360, Fraction(25), 12.0))
    planned = plan_video(source, "0-5 swap, 5-7 keep, 7-12 swap")
    unmarked = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), tmp_path / "u", "u",
                             label=LabelSettings(label))
    marked = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), tmp_path / "m", "m",
                           label=LabelSettings(label), watermark=MARK)
    plain = stitch_video(unmarked, tmp_path / "plain.mp4").path
    result = stitch_video(marked, tmp_path / "result.mp4").path
    found = find_marks(result).marks
    assert [(round(m.start_s, 1), m.payload) for m in found] == [(0.0, payload_hex(MARK.payload)),
                                                                   (7.0, payload_hex(MARK.payload))], found
    assert not find_marks(plain).marks
    # Each swapped frame's change follows the pattern at its sign; kept frames differ only by encoder noise. The
    # final encode is capped at 1.2x this low-rate sample's own rate (310 kbit/s; core/video/output_rate.py), and
    # the mark's bits then come out of single frames: those follow it less (0.19-0.23 at the lowest, measured;
    # 0.40 uncapped) and differ more from the unmarked encode (39.5 dB at the lowest), while the medians do not
    # move (0.47 against 0.50; 45 dB) and what the finder reads survives another encode as well as uncapped
    # (confidence 16.8 / 16.2 after crf 28, against 16.1 / 16.8 uncapped).
    pattern = bump_image(640, 360, cell_chips(MARK.payload))
    swapped = []
    for index, (a, b) in enumerate(zip(FrameReader(probe_video(plain), pixel_format=YUV420),
                                       FrameReader(probe_video(result), pixel_format=YUV420))):
        change = b[:360].astype(np.float64) - a[:360]
        start = 0 if index < 125 else 175 if index >= 175 else None
        expected = pattern * (flip_sign((index - start) / 25) if start is not None else 1.0)
        follows = (change * expected).sum() / np.sqrt((change ** 2).sum() * (expected ** 2).sum() + 1e-9)
        if start is None:
            assert abs(follows) < 0.2, (index, follows)
        else:
            assert follows > 0.1, (index, follows)
            swapped.append((follows, _psnr(a[:360], b[:360])))
    follows, quality = np.array(swapped).T
    assert np.median(follows) > 0.4 and quality.min() >= 38.0 and np.median(quality) >= 42.0
    recoded = find_marks(attack(result, tmp_path / "crf28.mp4", ATTACKS[0][1], 0.0)).marks
    assert [m.payload for m in recoded] == [payload_hex(MARK.payload)] * 2
    assert min(m.confidence for m in recoded) >= 2 * FOUND_CONFIDENCE


def test_the_worker_marks_each_job_with_its_own_ids_unless_told_not_to():
    from driver.config import ConfigError, load_config
    from driver.swap_job import SwapJob, build_graph, marking_defaults

    from .test_config import BASE

    config = load_config(BASE)
    assert config.watermark is True
    job = SwapJob(Path("v.mp4"), Path("a.png"), job_id="job-7",
                  graph_defaults=marking_defaults(config.label, config.watermark, "recW", "job-7"))
    graph = build_graph(job, "v.mp4", "a.png")
    [replace_node] = [n for n in graph.values() if n["_meta"]["title"] == "Face replace"]
    assert replace_node["inputs"]["watermark"] == "recW:job-7"
    assert WatermarkSettings.for_text("recW:job-7").payload == payload_for("recW:job-7")
    off = load_config({**BASE, "UGC_SWAP_WATERMARK": "off"})
    assert marking_defaults(off.label, off.watermark, "recW", "job-7")[("Face replace", "watermark")] == "off"
    assert not WatermarkSettings.for_text("off").on
    with pytest.raises(ConfigError, match="UGC_SWAP_WATERMARK"):
        load_config({**BASE, "UGC_SWAP_WATERMARK": "maybe"})
