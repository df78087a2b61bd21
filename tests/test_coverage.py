"""No silent half-done job: each swap segment says how many of its frames showed the customer and why the others
did not, and the worker fails (or delivers for review) a segment below the coverage line. The worker-level
proof (webhook, Airtable row, Runpod and Pods answers) is in test_reliability_guarantees.py and test_pods_mode.py."""

from __future__ import annotations

from fractions import Fraction

import pytest

from driver.job_quality import LowCoverageError, QualitySettings, judge_coverage, review_note, with_report
from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.engines import fast_landmark
from ugc_swap.core.engines.base import SegmentStats
from ugc_swap.core.quality.coverage import coverage_report
from ugc_swap.core.sample_media import sample_face
from ugc_swap.core.segment_plan import FrameRange

from .edited_clip import Shot, edited_clip
from .face_set import face_photo
from .talking_portrait import Expression, TalkingPortrait, portrait_around_face

FPS = Fraction(30)


def _swap(frames, settings=SwapSettings()):
    engine = get_engine("fast")
    avatar = engine.prepare_avatar(face_photo("dave"), settings)
    stats = SegmentStats()
    for _ in engine.swap_segment(avatar, iter(frames), FrameRange(0, len(frames)), FPS, settings, stats):
        pass
    return stats


@pytest.fixture(scope="module")
def face_then_product():
    """Two shots: the presenter for 30 frames, then the product alone for 30."""
    return edited_clip(edit=(Shot("grace_hopper", 30, 0.8, 0.45, "rocket"), Shot(None, 30, 0.0, 0.5, "coffee")))


def test_frames_with_nobody_are_counted_with_their_reason_and_fail_the_segment(face_then_product):
    stats = _swap(face_then_product.frames)
    assert (stats.frames, stats.covered, stats.skipped, stats.shots) == (60, 30, {"no_face": 30}, 2)
    report = coverage_report([stats], (FrameRange(0, 60),), FPS)
    [segment] = report["segments"]
    assert segment["share"] == 0.5 and report["low"]
    assert report["warning"] == ("low coverage: 0-2 s: the customer's face is in 30 of 60 frames (50%, at least 80% "
                                 "wanted); 30 with no face found")
    assert not coverage_report([stats], (FrameRange(0, 60),), FPS, min_coverage=0.5)["low"]


def test_a_face_too_small_to_swap_is_named_with_its_size(face_then_product, monkeypatch):
    # Every face here is ~100 px wide; with the engine's smallest face raised above that, each counts as too small.
    monkeypatch.setattr(fast_landmark, "MIN_FACE_PX", 400.0)
    stats = _swap(face_then_product.frames[:30])
    assert stats.skipped == {"too_small": 30} and stats.covered == 0
    assert 60 < stats.smallest_skipped_face_px < 400
    monkeypatch.setattr("ugc_swap.core.quality.coverage.MIN_FACE_PX", 400.0)
    warning = coverage_report([stats], (FrameRange(0, 30),), FPS)["warning"]
    assert f"30 with a face too small to swap (narrowest {stats.smallest_skipped_face_px:g} px wide, at least 400 " \
           "px needed)" in warning


def test_a_face_turned_away_is_a_fade_by_design_and_counts_as_covered():
    talking = TalkingPortrait(portrait_around_face(sample_face("grace_hopper")))
    turned = [talking.frame(i / 30, Expression(0.2, 0.0, 28.0)) for i in range(20)]
    stats = _swap(turned, SwapSettings(turn_limit=15.0))  # faded out from 15 degrees on
    assert stats.frames_with_face == 20 and stats.skipped == {"turned_away": 20}
    assert stats.covered == 20
    assert not coverage_report([stats], (FrameRange(0, 20),), FPS)["low"]


def test_the_worker_fails_a_half_done_job_unless_set_to_deliver_it_for_review():
    stats = SegmentStats(frames=60, frames_with_face=30, skipped={"no_face": 30})
    quality = {"coverage": coverage_report([stats], (FrameRange(0, 60),), FPS), "identity": None}
    with pytest.raises(LowCoverageError, match="30 of 60 frames") as failed:
        judge_coverage(quality, QualitySettings())
    assert failed.value.code == "low_coverage"
    review = QualitySettings(coverage_action="review")
    assert judge_coverage(quality, review) == quality["coverage"]["warning"]
    result = with_report({"timings_s": {"total": 1.0}, "warnings": []}, {}, quality, review, None)
    assert result["needs_review"] is True and result["warnings"] == [quality["coverage"]["warning"]]
    assert review_note(result) == "[needs_review] " + quality["coverage"]["warning"]
    full = {"coverage": coverage_report([SegmentStats(frames=60, frames_with_face=60)], (FrameRange(0, 60),), FPS)}
    assert judge_coverage(full, QualitySettings()) is None
    assert with_report({"timings_s": {"total": 1.0}, "warnings": []}, {}, full, review, None)["needs_review"] is False
