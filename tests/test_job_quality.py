"""The quality stage: samples kept while the swap runs, identity judged both ways, the before/after sheet, cost."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from driver.job_quality import PoorSwapError, QualitySettings, judge_identity, price_per_second
from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.quality.samples import FACE_PX, SampleCollector, face_crop, sample_frame_indices
from ugc_swap.core.quality.sheet import ROW_PX, quality_sheet
from ugc_swap.core.quality.swap_quality import swap_quality
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.swap_segments import swap_segments

PLAN = "0-2 swap, 2-end keep"


def test_samples_are_spread_inside_each_segment_and_keep_the_face_at_a_fixed_size():
    assert sample_frame_indices(FrameRange(0, 150), 3) == [37, 75, 112]
    ranges = (FrameRange(0, 8), FrameRange(20, 28))
    collector = SampleCollector(ranges, per_segment=1)
    frames = [np.full((360, 640, 3), i, np.uint8) for i in range(8)]
    visible = np.zeros((360, 640), np.uint8)
    visible[100:140, 300:340] = 255  # a 40 px face
    for index, frame in enumerate(collector.watch(frames, ranges[0])):
        collector.take(index, 255 - frame, visible)
    [sample] = collector.samples
    assert (sample.segment, sample.frame, sample.face_box) == (0, 4, (300, 100, 340, 140))
    assert sample.source_face.shape == (2 * FACE_PX, 2 * FACE_PX, 3)  # the face FACE_PX wide in a 2x crop
    assert sample.source.shape == (270, 480, 3) and sample.result.max() == 251 and sample.source.max() == 4


def test_a_crop_at_the_frame_edge_is_padded_not_shifted():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:10, :10] = 255
    crop = face_crop(frame, (0, 0, 10, 10))  # a 20 px crop centred on (5, 5): half of it lies outside
    assert crop.shape == (2 * FACE_PX, 2 * FACE_PX, 3)
    # The white box covers the crop's middle half (its edge softened by the 16x enlargement), black around it.
    middle = slice(FACE_PX // 2 + 20, FACE_PX + FACE_PX // 2 - 20)
    assert crop[middle, middle].min() >= 250
    assert crop[:FACE_PX // 2 - 20].max() <= 5 and crop[:, -(FACE_PX // 2 - 20):].max() <= 5


@pytest.fixture(scope="module")
def unswapped(tmp_path_factory):
    """A swap at strength 0: the result is the filmed face, the worst half-swap there is."""
    folder = tmp_path_factory.mktemp("unswapped")
    video = write_sample_video(folder / "source.mp4", SampleVideoSpec(640, 360, Fraction(30), 3.0))
    swapped = swap_segments(plan_video(video, PLAN), sample_face("grace_hopper"), "fast",
                            SwapSettings(strength=0.0), folder / "clips", "u")
    return swapped, swap_quality(swapped, sample_face("grace_hopper"))


def test_a_face_that_stayed_the_filmed_one_is_judged_poor_both_ways(unswapped):
    _, (quality, _) = unswapped
    identity = quality["identity"]
    [segment] = identity["segments"]
    assert segment["frames_measured"] == 3 and segment["to_filmed"] < 0.2 and segment["to_avatar"] > 0.6
    assert segment["margin"] < 0 and identity["poor"]
    assert "as close to the filmed person as to the customer" in identity["warning"]
    [coverage] = quality["coverage"]["segments"]
    assert (coverage["frames"], coverage["covered"], coverage["share"], coverage["skipped"]) == (60, 60, 1.0, {})
    assert judge_identity(quality, QualitySettings()) == identity["warning"]
    with pytest.raises(PoorSwapError, match="margin") as failed:
        judge_identity(quality, QualitySettings(identity_action="fail"))
    assert failed.value.code == "poor_identity"


def test_the_sheet_shows_each_sample_whole_and_zoomed_with_its_figures(unswapped):
    swapped, (quality, sheet) = unswapped
    rows = len(swapped.samples)
    assert rows == 3
    # A caption strip above each row and a header; each row: frame, face, frame, face, each ROW_PX tall.
    assert sheet.shape[0] >= rows * ROW_PX + (rows + 1) * 22
    frame_width = round(640 * ROW_PX / 360)
    assert sheet.shape[1] == 2 * frame_width + 2 * ROW_PX + 3 * 4
    face_tile = sheet[-ROW_PX:, frame_width + 4:frame_width + 4 + ROW_PX]
    assert face_tile.std() > 20, "the zoomed face tile is empty"
    sample = swapped.samples[-1]
    assert sample.source_face is not None and np.array_equal(sample.source_face, sample.result_face)


def test_price_comes_from_the_gpu_name_or_the_setting():
    assert price_per_second(QualitySettings(), "NVIDIA L40S") == (0.00053, "Runpod flex price for L40S")
    assert price_per_second(QualitySettings(), "NVIDIA H100 80GB HBM3")[0] == 0.00116
    assert price_per_second(QualitySettings(), None)[0] == 0.0
    assert price_per_second(QualitySettings(price_per_s=0.0002), "NVIDIA L4") == (0.0002, "UGC_SWAP_PRICE_PER_S")


def test_the_sheet_needs_samples():
    with pytest.raises(ValueError):
        quality_sheet([])
