"""The head's pose in 3-D: the similarity (scale, rotation, shift) that best maps a reference mesh onto a face's.

Mediapipe's mesh is 3-D (depth in the same pixel scale as x), so a face's pose can be taken out of its points,
leaving its shape in the reference's own frame: there, two people's faces (or one face at two moments) can be
compared point by point whatever way each head is turned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HeadPose:
    scale: float
    rotation: np.ndarray  # (3, 3), proper (det +1)
    shift: np.ndarray  # (3,)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Reference-frame points (N, 3) placed as this head."""
        return self.scale * points @ self.rotation.T + self.shift

    def invert(self, points: np.ndarray) -> np.ndarray:
        """This head's points (N, 3) in the reference's frame."""
        return (points - self.shift) @ self.rotation / self.scale

    def turn(self, vectors: np.ndarray) -> np.ndarray:
        """Reference-frame displacements (N, 3) as displacements of this head (rotated and scaled, not shifted)."""
        return self.scale * vectors @ self.rotation.T


def fit_head_pose(reference: np.ndarray, points: np.ndarray) -> HeadPose:
    """Least-squares similarity with `apply(reference)` closest to `points` (both (N, 3)); Umeyama's closed form."""
    ref_mean, pts_mean = reference.mean(axis=0), points.mean(axis=0)
    ref, pts = reference - ref_mean, points - pts_mean
    spread = float((ref * ref).sum())
    if spread <= 0:
        raise ValueError("the reference points all coincide; no pose can be fitted")
    u, singular, vt = np.linalg.svd(pts.T @ ref)
    sign = np.ones(3)
    sign[2] = np.sign(np.linalg.det(u @ vt)) or 1.0  # a reflection is no head pose
    rotation = (u * sign) @ vt
    scale = float((singular * sign).sum() / spread)
    return HeadPose(scale, rotation, pts_mean - scale * ref_mean @ rotation.T)
