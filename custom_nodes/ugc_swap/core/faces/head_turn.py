"""How far the head is turned, and the swap weight that fades to the filmed face as it turns towards profile.

A frontal avatar photo warped onto a face seen from the side stretches the far cheek and shows a seam where the
mesh folds, so past the artist's limit the original face is shown, faded in over a range of angles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

NOSE_TIP, RIGHT_CHEEK, LEFT_CHEEK = 1, 234, 454  # mesh indices; the cheeks are the face's widest points
# The nose tip stands about 0.93 half-face-widths in front of the line through the cheek points (mediapipe's
# canonical face model), so for a yaw θ its sideways offset is 0.93·tan θ half-widths.
_NOSE_DEPTH = 0.93
FADE_DEGREES = 15.0  # the swap fades out over this many degrees below the limit
_BACKLASH_DEGREES = 1.5  # landmark noise below this cannot turn the fade back
_MAX_STEP = 0.15  # per frame: even a sudden turn fades over at least 7 frames


def yaw_degrees(points: np.ndarray) -> float:
    """Signed head turn about the vertical axis, in degrees (0 = facing the camera), from the 2-D mesh."""
    right, left, nose = points[RIGHT_CHEEK, :2], points[LEFT_CHEEK, :2], points[NOSE_TIP, :2]
    axis = left - right
    half_width = float(np.linalg.norm(axis)) / 2
    if half_width < 1e-6:
        return 90.0
    offset = float(np.dot(nose - (left + right) / 2, axis / (2 * half_width))) / half_width
    return math.degrees(math.atan(offset / _NOSE_DEPTH))


def turn_weight(yaw: float, limit_degrees: float) -> float:
    """1 up to `limit - FADE_DEGREES`, 0 from `limit` on, a smooth (smoothstep) fade between."""
    t = (limit_degrees - abs(yaw)) / FADE_DEGREES
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


@dataclass
class TurnFade:
    """The turn weight over time: the yaw goes through a backlash (a small wobble cannot reverse it), the
    weight through a rate limit, so the fade out and back in is smooth and monotonic while the head turns."""

    limit_degrees: float
    _yaw: float | None = field(default=None, init=False)
    _weight: float | None = field(default=None, init=False)

    def reset(self) -> None:
        self._yaw, self._weight = None, None

    def __call__(self, points: np.ndarray) -> float:
        yaw = abs(yaw_degrees(points))
        if self._yaw is None:
            self._yaw = yaw
        else:
            self._yaw = min(max(self._yaw, yaw - _BACKLASH_DEGREES), yaw + _BACKLASH_DEGREES)
        target = turn_weight(self._yaw, self.limit_degrees)
        if self._weight is None:
            self._weight = target
        else:
            self._weight += max(-_MAX_STEP, min(_MAX_STEP, target - self._weight))
        return self._weight
