"""Detail that matches the footage: the pasted face is never visibly sharper or smoother than the filmed one.

A customer's photo and the filmed face rarely share a sharpness: a studio portrait shrunk onto a video face is
crisper than the soft, compressed video around it; a small photo enlarged onto a close-up is smooth and plastic.
Both are tells. Here the skin's detail is split into two bands (the finest, under a 1 px blur: grain, pores, the
last pixel of an edge; and the next, 1 to 2.5 px), both faces' energy in each band is measured over the same
visible skin, and the pasted face's bands are scaled to the filmed face's: damped when the photo is too crisp,
raised (up to twice) when it is too smooth. What raising cannot reach in the finest band is made up with grain, a
fixed pattern of the avatar's own skin (it moves with the face), so it adds no flicker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

_FINE_SIGMA = 1.0  # px: below it, the finest band
_MID_SIGMA = 2.5  # px: between the two, the features' crispness
_MAX_GAIN = 2.0  # the most a photo's own detail is raised; beyond it, raising shows its JPEG blocks
_FOLLOW = 0.5  # per frame: the share of the remaining (log) error corrected
_MAX_STEP = 1.5  # per frame, no gain moves by more than this factor
_TARGET_FOLLOW = 0.1  # per frame: how fast the filmed face's figures are followed
_SAMPLES = 20_000  # pixels measured at most (on a grid): the energy of a band settles long before
_TO_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
_INNER = 0.1  # of the face width
_INNER_MAP_PX = 96  # the inner face is found on a copy this large
_FEATURE_EDGE = 2.0  # px: how softly the grain fades out at the features


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


def inner_face(face_pixels: np.ndarray, face_width: float) -> np.ndarray:
    """The face pixels away from the face's edge (by _INNER share of the face width): where the face is judged
    against the footage. Near the edge the swap's blend mixes both faces' detail."""
    scale = min(1.0, _INNER_MAP_PX / max(face_pixels.shape))
    size = (max(1, round(face_pixels.shape[1] * scale)), max(1, round(face_pixels.shape[0] * scale)))
    small = cv2.resize(face_pixels.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    radius = max(1, round(_INNER * face_width * scale))
    small = cv2.erode(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    inner = cv2.resize(small, (face_pixels.shape[1], face_pixels.shape[0]), interpolation=cv2.INTER_NEAREST)
    return inner.astype(np.float32) if inner.sum() > 64 else face_pixels


@dataclass
class DetailMatcher:
    """One per segment: the pasted face's skin detail brought to the filmed face's, by feedback over the frames.

    Measured on skin only: eyes, brows and lips differ in size and crispness between two people whatever the swap
    does. The bands of a blurred image are not independent, so no closed form gives the gains: each frame's
    result is measured and the gains corrected towards the filmed face's figures for the next frame (the face
    changes slowly, the gains settle within a few frames, inside the segment's fade-in)."""

    _gains: np.ndarray = field(default_factory=lambda: np.ones(2), init=False)  # (fine, mid)
    _grain: float = field(default=0.0, init=False)  # grain amplitude on the skin, in grey levels
    # The filmed face's figures (fine, mid), followed slowly: in compressed video a face's finest detail changes
    # with each frame's type (a key frame is crisper than the frames between), which the result's own encoding
    # will give it anyway; following it frame by frame would make the detail pulse.
    _wanted: np.ndarray | None = field(default=None, init=False)

    def reset(self) -> None:
        self._gains, self._grain, self._wanted = np.ones(2), 0.0, None

    def match(self, pasted: np.ndarray, filmed: np.ndarray, weights: np.ndarray, features: np.ndarray,
              grain: np.ndarray | None, strength: float = 1.0) -> np.ndarray:
        """`pasted` (RGB uint8) with its two detail bands scaled towards `filmed`'s energies over the skin of
        `weights` (features, bool, left out); `grain` is a zero-mean float32 pattern over the same pixels (warped
        with the face) for what raising cannot give the skin."""
        if strength <= 0:
            return pasted
        skin = weights * ~features
        fine_gain, mid_gain = 1.0 + strength * (self._gains - 1.0)
        image = pasted.astype(np.float32)
        fine_blur = cv2.GaussianBlur(image, (0, 0), _FINE_SIGMA)
        low = cv2.GaussianBlur(image, (0, 0), _MID_SIGMA)
        out = low + mid_gain * (fine_blur - low) + fine_gain * (image - fine_blur)
        scale = band_energy_of(grain, skin) if grain is not None and self._grain > 0.05 else None
        if scale:
            on_skin = 1.0 - cv2.GaussianBlur(features.astype(np.float32), (0, 0), _FEATURE_EDGE)
            out += (strength * self._grain / np.sqrt(scale)) * (grain * on_skin)[..., None]
        result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        self._learn(result, filmed, skin)
        return result

    def _learn(self, result: np.ndarray, filmed: np.ndarray, skin: np.ndarray) -> None:
        """Correct the gains (and the grain) by how far this frame's result fell from the filmed figures."""
        now = _energies(cv2.cvtColor(filmed, cv2.COLOR_RGB2GRAY).astype(np.float32), skin)
        reached = _energies(cv2.cvtColor(result, cv2.COLOR_RGB2GRAY).astype(np.float32), skin)
        if now is None or reached is None:
            return
        self._wanted = np.array(now) if self._wanted is None else \
            self._wanted + _TARGET_FOLLOW * (np.array(now) - self._wanted)
        ratio = np.sqrt(np.maximum(self._wanted, 1e-3) / np.maximum(np.array(reached), 1e-3))
        self._gains = np.clip(self._gains * np.clip(ratio, 1 / _MAX_STEP, _MAX_STEP) ** _FOLLOW, 0.0, _MAX_GAIN)
        short = float(np.sqrt(self._wanted[0]) - np.sqrt(reached[0]))  # grain makes up what raising cannot
        if self._gains[0] >= _MAX_GAIN - 1e-6 or (short < 0 and self._grain > 0):
            self._grain = max(0.0, self._grain + _FOLLOW * short)


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
