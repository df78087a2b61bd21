"""The per-job report: preview sheet, identity score with its threshold, and the cost estimate."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from driver.job_quality import PoorSwapError, QualitySettings, price_per_second, quality_report
from ugc_swap.core.preview import preview_frame_indices, preview_sheet
from ugc_swap.core.segment_plan import FrameRange


def test_preview_picks_frames_inside_each_segment_and_stacks_source_over_result():
    assert preview_frame_indices((FrameRange(0, 150), FrameRange(450, 600)), 3) == [37, 75, 112, 487, 525, 562]
    source = [np.full((360, 640, 3), 10 * i, np.uint8) for i in range(3)]
    result = [np.full((360, 640, 3), 200, np.uint8) for _ in range(3)]
    sheet = preview_sheet(source, result, tile_width=160)
    assert sheet.shape == (2 * 90 + 4, 3 * 160 + 2 * 4, 3)
    assert sheet[:90, :160].max() == 0 and (sheet[94:, :160] == 200).all()


def test_price_comes_from_the_gpu_name_or_the_setting():
    assert price_per_second(QualitySettings(), "NVIDIA L40S") == (0.00053, "Runpod flex price for L40S")
    assert price_per_second(QualitySettings(), "NVIDIA H100 80GB HBM3")[0] == 0.00116
    assert price_per_second(QualitySettings(), None)[0] == 0.0
    assert price_per_second(QualitySettings(price_per_s=0.0002), "NVIDIA L4") == (0.0002, "UGC_SWAP_PRICE_PER_S")


def test_an_unswapped_video_scores_as_a_different_person(sample_video, avatar_png, tmp_path):
    plan = "0-5 swap, 5-end keep"
    preview = tmp_path / "preview.jpg"
    report = quality_report(sample_video, sample_video, avatar_png, plan, QualitySettings(), preview)
    identity = report["identity"]
    assert identity["median_distance"] > 0.6 and "far from the avatar" in identity["warning"]
    sheet = cv2.imread(str(preview))
    assert sheet is not None and sheet.shape[1] == 3 * 320 + 2 * 4
    with pytest.raises(PoorSwapError, match="far from the avatar") as failed:
        quality_report(sample_video, sample_video, avatar_png, plan, QualitySettings(identity_action="fail"), preview)
    assert failed.value.code == "poor_identity"
