"""How the fast engine follows a face over time: pose fitting, landmark smoothing and the avatar's size levels."""

import math

import cv2
import numpy as np
import pytest

from ugc_swap.core.faces.avatar_levels import AvatarLevel, LevelChooser, ideal_level
from ugc_swap.core.faces.similarity import Similarity, fit_similarity
from ugc_swap.core.faces.smoothing import LandmarkSmoother, smoothing_cutoff
from ugc_swap.core.sample_media import sample_face
from ugc_swap.core.engines import SwapSettings, get_engine


def face_shape(seed: int = 0) -> np.ndarray:
    """468 points inside a 100 px wide face-like oval, centred on (200, 150)."""
    rng = np.random.default_rng(seed)
    angle, radius = rng.uniform(0, 2 * np.pi, 468), np.sqrt(rng.uniform(0, 1, 468))
    return np.stack([200 + 50 * radius * np.cos(angle), 150 + 65 * radius * np.sin(angle)], axis=1)


def head_motion(frame: int) -> Similarity:
    """A head that drifts, turns and comes closer, as in a handheld selfie video (30 fps)."""
    t = frame / 30
    return Similarity(1.0 + 0.1 * math.sin(t), math.radians(10 * math.sin(1.3 * t)),
                      (40 * math.sin(0.9 * t), 25 * math.sin(1.7 * t)))


def moved(points: np.ndarray, motion: Similarity) -> np.ndarray:
    centre = points.mean(axis=0)
    return motion.apply(points - centre) + centre


def acceleration(sequence: list[np.ndarray]) -> float:
    stacked = np.stack(sequence)
    return float(np.linalg.norm(stacked[2:] - 2 * stacked[1:-1] + stacked[:-2], axis=2).mean())


def test_fit_similarity_recovers_a_known_transform_and_inverts_it():
    shape = face_shape()
    truth = Similarity(1.7, math.radians(-25), (31.0, -12.5))
    fitted = fit_similarity(shape, truth.apply(shape))
    assert fitted.scale == pytest.approx(1.7)
    assert fitted.angle == pytest.approx(math.radians(-25))
    assert fitted.shift == pytest.approx((31.0, -12.5))
    assert np.allclose(fitted.invert(truth.apply(shape)), shape)


def test_fit_similarity_refuses_coincident_reference_points():
    with pytest.raises(ValueError, match="coincide"):
        fit_similarity(np.ones((5, 2)), face_shape()[:5])


def test_smoother_removes_jitter_on_a_still_face():
    rng = np.random.default_rng(1)
    shape, smoother = face_shape(), LandmarkSmoother(30.0)
    raw = [shape + rng.normal(0, 1.0, shape.shape) for _ in range(90)]
    smoothed = [smoother(points) for points in raw]
    assert acceleration(smoothed[30:]) < 0.3 * acceleration(raw[30:])


def test_smoother_keeps_the_face_on_a_moving_head():
    """Head motion must not lag: the smoothed mesh stays within 1.5 % of the face width of the true one while the
    head drifts, turns and zooms, and the noise still drops by more than half."""
    rng = np.random.default_rng(2)
    shape, smoother = face_shape(), LandmarkSmoother(30.0)
    truth = [moved(shape, head_motion(i)) for i in range(150)]
    raw = [points + rng.normal(0, 0.7, points.shape) for points in truth]
    smoothed = [smoother(points) for points in raw]
    error = np.mean([np.linalg.norm(s - t, axis=1).mean() for s, t in zip(smoothed[10:], truth[10:])])
    assert error < 1.5, error  # px on a 100 px face
    assert acceleration(smoothed[10:]) < 0.5 * acceleration(raw[10:])


def test_smoother_follows_a_fast_expression():
    """An opening mouth (a tenth of the points moving 2 px per frame) is followed within a few pixels."""
    shape, smoother = face_shape(), LandmarkSmoother(30.0)
    mouth = np.arange(0, 468, 10)
    frames = []
    for i in range(20):
        points = shape.copy()
        points[mouth, 1] += 2.0 * i
        frames.append(smoother(points))
    assert frames[-1][mouth, 1] - shape[mouth, 1] == pytest.approx(38.0, abs=5.0)


def test_smoother_does_not_wrap_a_face_turning_past_upside_down():
    shape, smoother = face_shape(), LandmarkSmoother(30.0)
    for degrees in range(150, 215, 5):  # through 180: the fitted angle jumps from +pi to -pi
        truth = moved(shape, Similarity(1.0, math.radians(degrees), (0.0, 0.0)))
        out = smoother(truth)
    assert np.linalg.norm(out - truth, axis=1).mean() < 3.0


def test_smoothing_off_passes_points_through_and_reset_forgets_the_face():
    shape = face_shape()
    assert smoothing_cutoff(0.0) == 0.0
    assert np.array_equal(LandmarkSmoother(30.0, smoothing_cutoff(0.0))(shape), shape)
    smoother = LandmarkSmoother(30.0)
    smoother(shape)
    smoother.reset()
    elsewhere = shape + (300.0, 0.0)
    assert np.allclose(smoother(elsewhere), elsewhere)


def colours_under(level) -> np.ndarray:
    xs, ys = level.points[:, 0].astype(np.float32)[None], level.points[:, 1].astype(np.float32)[None]
    return cv2.remap(level.image, xs, ys, cv2.INTER_LINEAR)[0, :, :3].astype(float)  # the photo, not the grain


def test_avatar_levels_halve_and_keep_the_mesh_on_the_face():
    avatar = get_engine("fast").prepare_avatar(sample_face("grace_hopper"), SwapSettings())
    levels = avatar.levels
    assert len(levels) >= 3
    for larger, smaller in zip(levels, levels[1:]):
        assert smaller.image.shape[0] == larger.image.shape[0] // 2
        assert smaller.face_width == pytest.approx(larger.face_width / 2)
        # The mesh lands on the same spots at both sizes: under its points the halved image shows what the larger
        # one shows averaged over 2x2 pixels, clearly closer than with the mesh half a pixel off.
        averaged = AvatarLevel(cv2.blur(larger.image, (2, 2)), larger.points + 0.5, larger.face_width)
        expected = colours_under(averaged)
        off = AvatarLevel(smaller.image, larger.points / 2, smaller.face_width)
        assert np.abs(colours_under(smaller) - expected).mean() < 0.7 * np.abs(colours_under(off) - expected).mean()
    assert 16.0 <= levels[-1].face_width < 32.0


def test_each_frame_warps_from_the_level_just_above_the_filmed_size_with_hysteresis():
    avatar = get_engine("fast").prepare_avatar(sample_face("grace_hopper"), SwapSettings())
    widths = [level.face_width for level in avatar.levels]
    filmed = widths[2] * 0.9
    assert ideal_level(avatar.levels, filmed) == 2
    assert ideal_level(avatar.levels, widths[0] * 3) == 0  # a filmed face larger than the photo's: full size
    assert ideal_level(avatar.levels, 1.0) == len(widths) - 1
    chooser = LevelChooser(avatar.levels)
    assert chooser(filmed) is avatar.levels[2]
    # Just past the boundary the level holds; well past it, the next level is taken.
    assert chooser(widths[2] * 1.05) is avatar.levels[2]
    assert chooser(widths[2] * 1.3) is avatar.levels[1]
    assert chooser(widths[2] * 0.95) is avatar.levels[1]
    assert chooser(widths[2] * 0.4) is avatar.levels[3]
