"""The visible "AI-generated" label: drawn where it is asked for (swapped frames, or every frame), nowhere else,
readable on any background; the swapped-only label keeps the source's GOPs copied bit for bit."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.label import LabelSettings, draw_label_yuv420
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import YUV420, FrameReader

from .hard_shots import save_sheet


def _grey_planes(width: int, height: int, level: int) -> np.ndarray:
    planes = np.full((height * 3 // 2, width), 128, np.uint8)
    planes[:height] = level
    return planes


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
@pytest.mark.parametrize("level", [20, 128, 235])
def test_the_label_sits_in_its_corner_and_reads_on_dark_and_light_frames(corner, level):
    width, height = 640, 360
    label = LabelSettings("swapped", "AI-generated", corner, 0.05)
    out = draw_label_yuv420(_grey_planes(width, height, level), width, height, label)
    luma = out[:height].astype(int)
    changed = np.argwhere(luma != level)
    top, left = changed.min(axis=0)
    bottom, right = changed.max(axis=0)
    assert (top < height / 2) == corner.startswith("top") and (left < width / 2) == corner.endswith("left")
    assert bottom - top + 1 <= 0.06 * height and right - left + 1 < width / 2, "the label must stay small"
    plate = luma[top:bottom + 1, left:right + 1]
    # White text over a plate darker than the frame: readable whatever is behind it.
    assert plate.max() > 200 and np.percentile(plate, 10) <= 16 + 0.5 * (level - 16) + 1
    assert np.abs(out[height:].astype(int) - 128).max() <= 1, "a white and grey label adds no colour"


def _job(tmp_path, label: LabelSettings):
    source = write_sample_video(tmp_path / "source.mp4", SampleVideoSpec(640, 360, Fraction(30), 4.0))
    planned = plan_video(source, "0-1 swap, 1-end keep")
    swapped = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), tmp_path / "clips", "l",
                            label=label)
    return source, swapped, stitch_video(swapped, tmp_path / "result.mp4")


def _corner_luma(frame: np.ndarray) -> np.ndarray:
    return frame[:360][:30, -200:].astype(int)  # the top-right corner where the label goes


def test_a_label_on_the_swapped_frames_only_keeps_the_rest_copied(tmp_path):
    source, swapped, result = _job(tmp_path, LabelSettings("swapped"))
    assert result.copied_frames > 0, result.not_copied_because
    before = list(FrameReader(probe_video(source), pixel_format=YUV420))
    after = list(FrameReader(probe_video(result.path), pixel_format=YUV420))
    labelled = [np.abs(_corner_luma(a) - _corner_luma(b)).max() > 60 for a, b in zip(after, before)]
    assert all(labelled[:30]) and not any(labelled[30:]), "labelled frames: " + "".join("1" if x else "0"
                                                                                          for x in labelled)
    shown = list(FrameReader(probe_video(result.path), 15, 61))
    save_sheet("label_swapped", [[next(iter(FrameReader(probe_video(source), 15, 16))), shown[0], shown[-1]]],
               ["source", "swapped, labelled", "kept, no label"])


def test_a_label_on_the_whole_video_marks_every_frame(tmp_path):
    source, swapped, result = _job(tmp_path, LabelSettings("whole", "KI-generiert", "top-right", 0.06))
    assert result.copied_frames == 0 and result.not_copied_because == "a visible label on every frame"
    before = list(FrameReader(probe_video(source), pixel_format=YUV420))
    after = list(FrameReader(probe_video(result.path), pixel_format=YUV420))
    assert all(np.abs(_corner_luma(a) - _corner_luma(b)).max() > 60 for a, b in zip(after, before))
