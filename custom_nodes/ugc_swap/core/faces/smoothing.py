"""Temporal smoothing of landmarks (the One Euro filter) so a swapped face does not jitter between frames.

The One Euro filter (Casiez et al., CHI 2012) smooths hard when points move slowly, where jitter shows, and
follows quickly when they move fast, where lag would show. Cut-offs are in Hz, speeds in face widths per second,
so the same settings work for a small face in 1080p and a large one in 480p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class LandmarkSmoother:
    """One Euro filter over an (N, 2) landmark array, reset whenever the face is lost."""

    fps: float
    min_cutoff_hz: float = 1.5
    beta: float = 0.6
    derivative_cutoff_hz: float = 1.0
    _previous: np.ndarray | None = field(default=None, init=False)
    _speed: np.ndarray | None = field(default=None, init=False)

    def reset(self) -> None:
        self._previous, self._speed = None, None

    def __call__(self, points: np.ndarray, face_width: float) -> np.ndarray:
        points = points.astype(np.float64)
        if self._previous is None or self.min_cutoff_hz <= 0:
            self._previous, self._speed = points, np.zeros(points.shape[0])
            return points
        dt = 1.0 / self.fps
        raw_speed = np.linalg.norm(points - self._previous, axis=1) / dt / max(face_width, 1.0)
        a_d = _alpha(self.derivative_cutoff_hz, dt)
        self._speed = a_d * raw_speed + (1 - a_d) * self._speed
        cutoff = self.min_cutoff_hz + self.beta * self._speed
        tau = 1.0 / (2.0 * math.pi * cutoff)
        a = (1.0 / (1.0 + tau / dt))[:, None]
        self._previous = a * points + (1 - a) * self._previous
        return self._previous


def smoothing_cutoff(smoothing: float) -> float:
    """Map the artist's 0..1 "smoothing" knob to a One Euro minimum cut-off (0 = off, 1 = very steady)."""
    if smoothing <= 0:
        return 0.0
    return float(np.interp(smoothing, [0.0, 0.5, 1.0], [8.0, 1.5, 0.3]))
