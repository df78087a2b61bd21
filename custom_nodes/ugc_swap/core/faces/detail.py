"""Detail that matches the footage: the pasted face is never visibly sharper or smoother than the filmed one.

A customer's photo and the filmed face rarely share a sharpness: a studio portrait shrunk onto a video face has
crisper features than the soft, compressed video around it; a small photo enlarged onto a close-up is smooth and
plastic. Both are tells. Here the face's detail is split into two bands (the finest, under a 1 px blur: grain,
pores, the last pixel of an edge; and the next, 1 to 2.5 px: the crispness of features), both faces' energy in
each band is measured over the same visible skin and features, and the pasted face's bands are scaled to the
filmed face's: damped when the photo is too crisp, raised (up to twice) when it is too smooth. What raising cannot
reach in the finest band is made up with grain, a fixed pattern of the avatar's own skin (it moves with the face),
so it adds no flicker. The gains are followed slowly over time, so the look does not pulse from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

_FINE_SIGMA = 1.0  # px: below it, the finest band
_MID_SIGMA = 2.5  # px: between the two, the features' crispness
_MAX_GAIN = 2.0  # the most a photo's own detail is raised; beyond it, raising shows its JPEG blocks
_FOLLOW = 0.2  # per frame: how fast the matched figures follow the measured ones
_SAMPLES = 20_000  # pixels measured at most (on a grid): the energy of a band settles long before
_TO_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _bands(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fine, mid) bands of a float luma image."""
    fine_blur = cv2.GaussianBlur(luma, (0, 0), _FINE_SIGMA)
    return luma - fine_blur, fine_blur - cv2.GaussianBlur(luma, (0, 0), _MID_SIGMA)


def _energies(luma: np.ndarray, weights: np.ndarray) -> tuple[float, float] | None:
    """Weighted mean squares of the (fine, mid) bands; None when the weights are (almost) empty."""
    step = max(1, round(np.sqrt(weights.size / _SAMPLES)))
    w = weights[::step, ::step]
    total = float(w.sum())
    if total < 16:
        return None
    fine, mid = (band[::step, ::step] for band in _bands(luma))
    return float((fine * fine * w).sum() / total), float((mid * mid * w).sum() / total)


def band_energy_of(values: np.ndarray, weights: np.ndarray) -> float | None:
    """The finest band's weighted mean square of a float single-channel image."""
    found = _energies(values, weights)
    return None if found is None else found[0]


def band_energy(rgb: np.ndarray, weights: np.ndarray) -> float | None:
    """The finest luma band's weighted mean square of an RGB uint8 patch."""
    return band_energy_of(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), weights)


@dataclass
class DetailMatcher:
    """One per segment: the pasted face's detail brought to the filmed face's, followed over time."""

    _gains: np.ndarray | None = field(default=None, init=False)  # (fine, mid)
    _grain: float = field(default=0.0, init=False)

    def reset(self) -> None:
        self._gains, self._grain = None, 0.0

    def match(self, pasted: np.ndarray, filmed: np.ndarray, weights: np.ndarray, grain: np.ndarray | None,
              strength: float = 1.0) -> np.ndarray:
        """`pasted` (RGB uint8) with its two detail bands scaled to `filmed`'s energies over `weights`; `grain` is
        a zero-mean float32 pattern over the same pixels (warped with the face), for what scaling cannot give."""
        image = pasted.astype(np.float32)
        have = _energies(image @ _TO_LUMA, weights)
        want = _energies(cv2.cvtColor(filmed, cv2.COLOR_RGB2GRAY).astype(np.float32), weights)
        if have is not None and want is not None:
            gains = np.clip(np.sqrt(np.array(want) / np.maximum(np.array(have), 1e-6)), 0.0, _MAX_GAIN)
            missing = float(np.sqrt(max(0.0, want[0] - gains[0] ** 2 * have[0])))
            if self._gains is None:
                self._gains, self._grain = gains, missing
            else:
                self._gains = self._gains + _FOLLOW * (gains - self._gains)
                self._grain += _FOLLOW * (missing - self._grain)
        if self._gains is None or strength <= 0:
            return pasted
        fine_gain, mid_gain = 1.0 + strength * (self._gains - 1.0)
        fine_blur = cv2.GaussianBlur(image, (0, 0), _FINE_SIGMA)
        low = cv2.GaussianBlur(image, (0, 0), _MID_SIGMA)
        out = low + mid_gain * (fine_blur - low) + fine_gain * (image - fine_blur)
        if grain is not None and self._grain > 0.05:
            scale = band_energy_of(grain, weights)
            if scale:
                out += (strength * self._grain / np.sqrt(scale)) * grain[..., None]
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def grain_pattern(shape: tuple[int, int], seed: int = 7) -> np.ndarray:
    """uint8 fine-grained noise (128 = zero), stored with the avatar and warped with it, so the grain sticks to
    the skin (see grain_from_channel)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.6)
    noise /= max(float(np.std(noise)), 1e-6)
    return np.clip(128 + 32 * noise, 0, 255).astype(np.uint8)


def grain_from_channel(channel: np.ndarray) -> np.ndarray:
    """The zero-mean float pattern from a warped `grain_pattern` channel (its scale is measured where used)."""
    return (channel.astype(np.float32) - 128.0) / 32.0
