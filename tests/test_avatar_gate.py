"""The avatar gate on real photos: what it refuses (naming the reason and the measured number), what it lets through
with a warning, and that a good photo passes clean."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.faces.avatar_quality import LINES, AvatarQualityError, judge_avatar, measure_avatar
from ugc_swap.core.faces.main_face import avatar_face_points, checked_avatar

from .face_set import face_photo
from .pair_quality import photo
from .talking_portrait import portrait_around_face


@pytest.fixture(scope="module")
def good() -> np.ndarray:
    """A frontal, sharp, colour portrait with a large face (obama: eye corners ~150 px apart)."""
    return portrait_around_face(photo("obama"))


def _eye_px(rgb: np.ndarray) -> float:
    points = avatar_face_points(rgb, 0.5)
    return float(np.linalg.norm(points[33, :2] - points[263, :2]))


def _refusal(rgb: np.ndarray) -> str:
    with pytest.raises(AvatarQualityError) as refused:
        checked_avatar(rgb, 0.5)
    assert refused.value.code == "avatar_low_quality"
    return refused.value.message


def test_a_good_photo_passes_without_warnings(good):
    _, quality = checked_avatar(good, 0.5)
    assert quality.refusals == [] and quality.warnings == [], quality.figures
    assert quality.figures["eye_corner_px"] > 100 and quality.figures["turn_degrees"] < 20


def test_a_face_too_small_is_refused_with_its_size(good):
    scale = 28.0 / _eye_px(good)
    small = cv2.resize(good, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    message = _refusal(small)
    assert "too small" in message and f"{LINES['eye_corner_px'].warn:.0f} wanted" in message
    assert any(f"({px} px" in message for px in range(24, 33)), message


def test_a_small_but_usable_face_passes_with_a_warning(good):
    scale = 48.0 / _eye_px(good)
    small = cv2.resize(good, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, quality = checked_avatar(small, 0.5)
    assert quality.refusals == [] and any("too small" in w for w in quality.warnings), quality.warnings


def test_a_blurred_photo_is_refused_with_its_sharpness(good):
    blurred = cv2.GaussianBlur(good, (0, 0), 4.0 * _eye_px(good) / 64.0)
    message = _refusal(blurred)
    assert "blurred" in message and "sharpness 0.0" in message


def test_a_slightly_soft_photo_passes_with_a_warning(good):
    soft = cv2.GaussianBlur(good, (0, 0), 2.0 * _eye_px(good) / 64.0)
    _, quality = checked_avatar(soft, 0.5)
    assert quality.refusals == [] and any("blurred" in w for w in quality.warnings), quality.figures


def test_closed_eyes_are_refused():
    """A real photo of a woman laughing with her eyes shut (facetorch's test image)."""
    assert "eyes look closed" in _refusal(face_photo("closed_eyes_woman"))


def test_a_black_and_white_photo_is_refused(good):
    grey = cv2.cvtColor(cv2.cvtColor(good, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert "no colour" in _refusal(grey)


def test_a_face_cut_by_the_photos_edge_is_refused(good):
    points = avatar_face_points(good, 0.5)
    left, right = points[:, 0].min(), points[:, 0].max()
    cut = np.ascontiguousarray(good[:, : int(right - 0.2 * (right - left))])  # a fifth of the face is cut off
    assert "outside the photo" in _refusal(cut)


def test_the_engines_refuse_before_any_frame_is_swapped(good):
    grey = cv2.cvtColor(cv2.cvtColor(good, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    with pytest.raises(AvatarQualityError):
        get_engine("fast").prepare_avatar(grey, SwapSettings())


def test_every_figure_has_its_lines_and_a_message():
    figures = measure_avatar(photo("obama"), avatar_face_points(photo("obama"), 0.5))
    assert set(figures) == set(LINES)
    worst = {name: (line.refuse - 1 if line.higher_is_better else line.refuse + 1) for name, line in LINES.items()}
    refusals = judge_avatar(worst).refusals
    assert len(refusals) == len(LINES) and all(r.startswith("avatar photo: ") for r in refusals)
