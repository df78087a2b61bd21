"""Temporal smoothing of landmarks so a swapped face does not jitter between frames.

The One Euro filter (Casiez et al., CHI 2012) smooths hard when points move slowly, where jitter shows, and
follows quickly when they move fast, where lag would show. Cut-offs are in Hz, speeds in face widths per second,
so the same settings work for a small face in 1080p and a large one in 480p.

The mesh is smoothed in two parts. Its pose (where the head is, how big, how turned in the picture) is fitted
to all 468 points at once, so it carries little noise, and it is what the eye follows: a face that lags its own
head looks pasted on, so the pose is smoothed lightly. Its shape in the head's own frame (expression, a turn
away from the camera) is where the per-point noise lives, and a head moving fast no longer counts as fast
motion there, so the shape is smoothed as hard as the artist asks. Filtering each point in image coordinates
instead let the head's motion open the filter and let the noisy speed estimate vary the lag point by point:
on the sample video the swapped face then measured more landmark jitter than with no smoothing at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .similarity import Similarity, fit_similarity

# The pose filter's cut-off is this many times the shape's.
_POSE_CUTOFF_FACTOR = 5.0


def _alpha(cutoff_hz: float | np.ndarray, dt: float) -> float | np.ndarray:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """One Euro filter over the rows of an (N, D) array; each row has its own speed and so its own cut-off."""

    fps: float
    min_cutoff_hz: float
    beta: float = 0.6
    derivative_cutoff_hz: float = 1.0
    _previous: np.ndarray | None = field(default=None, init=False)
    _speed: np.ndarray | None = field(default=None, init=False)

    def reset(self) -> None:
        self._previous, self._speed = None, None

    def __call__(self, values: np.ndarray, unit: float) -> np.ndarray:
        """`values` filtered; `unit` is the length that makes a speed of one unit per second (a face width)."""
        if self._previous is None or self.min_cutoff_hz <= 0:
            self._previous, self._speed = values, np.zeros(values.shape[0])
            return values
        dt = 1.0 / self.fps
        raw_speed = np.linalg.norm(values - self._previous, axis=1) / dt / max(unit, 1e-9)
        a_d = _alpha(self.derivative_cutoff_hz, dt)
        self._speed = a_d * raw_speed + (1 - a_d) * self._speed
        a = _alpha(self.min_cutoff_hz + self.beta * self._speed, dt)[:, None]
        self._previous = a * values + (1 - a) * self._previous
        return self._previous


@dataclass
class LandmarkSmoother:
    """Smooths an (N, 2) landmark array frame by frame as pose plus shape; reset whenever the face is lost."""

    fps: float
    min_cutoff_hz: float = 1.5
    _reference: np.ndarray | None = field(default=None, init=False)  # the first frame's mesh, centred
    _angle: float = field(default=0.0, init=False)  # the last frame's angle, unwrapped
    _shape: OneEuroFilter = field(init=False)
    _pose: OneEuroFilter = field(init=False)

    def __post_init__(self) -> None:
        self._shape = OneEuroFilter(self.fps, self.min_cutoff_hz)
        self._pose = OneEuroFilter(self.fps, self.min_cutoff_hz * _POSE_CUTOFF_FACTOR)

    def reset(self) -> None:
        self._reference = None
        self._shape.reset()
        self._pose.reset()

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = points.astype(np.float64)
        if self.min_cutoff_hz <= 0:
            return points
        if self._reference is None:
            self._reference = points - points.mean(axis=0)
            self._angle = 0.0
        reference_width = max(float(np.ptp(self._reference[:, 0])), 1.0)
        pose = fit_similarity(self._reference, points)
        shape = self._shape(pose.invert(points), reference_width)
        # The angle continues from the last frame's, so a face turning past 180 degrees does not wrap around.
        self._angle += math.remainder(pose.angle - self._angle, 2 * math.pi)
        # Shift in reference face widths, scale as a logarithm, angle in radians: one unit is about a face width.
        pose_vector = np.array([[pose.shift[0] / reference_width, pose.shift[1] / reference_width,
                                 math.log(pose.scale), self._angle]])
        steady = self._pose(pose_vector, 1.0)[0]
        smoothed = Similarity(math.exp(steady[2]), float(steady[3]),
                              (float(steady[0]) * reference_width, float(steady[1]) * reference_width))
        return smoothed.apply(shape)


def smoothing_cutoff(smoothing: float) -> float:
    """Map the artist's 0..1 "smoothing" knob to a One Euro minimum cut-off (0 = off, 1 = very steady)."""
    if smoothing <= 0:
        return 0.0
    return float(np.interp(smoothing, [0.0, 0.5, 1.0], [8.0, 1.5, 0.3]))
