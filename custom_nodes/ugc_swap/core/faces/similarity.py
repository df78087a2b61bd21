"""The similarity transform (scale, turn, shift) that best maps one point set onto another, and its inverse.

A face mesh moves mostly as a whole: the head shifts, turns in the picture plane and comes closer. Splitting that
motion from the mesh's change of shape lets each be smoothed for what it is (see smoothing.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Similarity:
    scale: float
    angle: float  # radians, counter-clockwise in image coordinates (x right, y down)
    shift: tuple[float, float]

    def _rotation(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * points @ self._rotation().T + np.asarray(self.shift)

    def invert(self, points: np.ndarray) -> np.ndarray:
        return (points - np.asarray(self.shift)) @ self._rotation() / self.scale


def fit_similarity(reference: np.ndarray, points: np.ndarray) -> Similarity:
    """Least-squares similarity with `apply(reference)` closest to `points` (both (N, 2), N >= 2, not all equal)."""
    ref_mean, pts_mean = reference.mean(axis=0), points.mean(axis=0)
    ref, pts = reference - ref_mean, points - pts_mean
    # In 2-D the optimal rotation and scale come from two sums (complex-number form of Umeyama's solution).
    dot = float((ref * pts).sum())
    cross = float((ref[:, 0] * pts[:, 1] - ref[:, 1] * pts[:, 0]).sum())
    spread = float((ref * ref).sum())
    if spread <= 0:
        raise ValueError("the reference points all coincide; no transform can be fitted")
    angle = math.atan2(cross, dot)
    scale = math.hypot(dot, cross) / spread
    c, s = math.cos(angle), math.sin(angle)
    moved_mean = scale * np.array([c * ref_mean[0] - s * ref_mean[1], s * ref_mean[0] + c * ref_mean[1]])
    shift = pts_mean - moved_mean
    return Similarity(scale, angle, (float(shift[0]), float(shift[1])))
