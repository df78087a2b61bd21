"""Putting a warped face into a frame: feathered mask, colour match, and the target's own mouth interior."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .resample import shrink
from .warp import Region


# The face mask's feather is worked out at a scale where it spans about this many pixels: erosion by a disc and a
# blur both cost in proportion to their size, and the result is so smooth that a bilinear upscale loses nothing.
_MASK_FEATHER_PX = 12
# Inner-lip height over mouth width: below the first the lips count as closed, above the second as open.
_MOUTH_PARTED, _MOUTH_OPEN = 0.1, 0.25


def mouth_opening(inner_mouth: np.ndarray) -> float:
    """How open the mouth is, 0..1: the inner lips' height over the mouth's width, from barely parted (a face at
    rest often measures a few percent) to clearly open."""
    width = float(np.ptp(inner_mouth[:, 0]))
    gap = float(np.ptp(inner_mouth[:, 1])) / max(width, 1e-6)
    t = min(1.0, max(0.0, (gap - _MOUTH_PARTED) / (_MOUTH_OPEN - _MOUTH_PARTED)))
    return t * t * (3 - 2 * t)


def face_mask(
    region: Region,
    outline: np.ndarray,
    inner_mouth: np.ndarray | None,
    feather_px: float,
) -> np.ndarray:
    """Float mask in [0, 1] over `region`: the face outline shrunk and softened by `feather_px`, with the mouth
    opening cut out as far as the mouth is open (a closed mouth keeps the avatar's lips whole)."""
    x0, y0, x1, y1 = region
    shape = (y1 - y0, x1 - x0)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline - (x0, y0)).astype(np.int32)], 255)
    mouth = None
    opening = mouth_opening(inner_mouth) if inner_mouth is not None else 0.0
    if inner_mouth is not None and opening > 0:
        mouth = np.zeros(shape, np.uint8)
        cv2.fillPoly(mouth, [np.round(inner_mouth - (x0, y0)).astype(np.int32)], round(255 * opening))
        mouth = cv2.dilate(mouth, np.ones((3, 3), np.uint8))
    feather = max(1, int(round(feather_px)))
    scale = min(1.0, _MASK_FEATHER_PX / feather)
    if scale < 1.0:
        # Area averaging keeps the sharp full-size outlines' positions to a fraction of a small pixel.
        small = (max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale)))
        mask = shrink(mask, small)
        mouth = None if mouth is None else shrink(mouth, small)
        feather = _MASK_FEATHER_PX
    soft = _feathered(mask, mouth, feather)
    if scale < 1.0:
        soft = cv2.resize(soft, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(soft, 0.0, 1.0)


def _feathered(mask: np.ndarray, mouth: np.ndarray | None, feather: int) -> np.ndarray:
    # Shrink by the feather width so the soft edge stays inside the face and never shows the avatar's background.
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * feather + 1,) * 2))
    if mouth is not None:
        mask = cv2.subtract(mask, mouth)
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigmaX=feather / 2)


@dataclass
class ColourStats:
    """Per-channel LAB mean and standard deviation, smoothed over time so the swap does not flicker."""

    mean: np.ndarray
    std: np.ndarray

    def blend_towards(self, other: ColourStats, weight: float) -> ColourStats:
        return ColourStats(self.mean + weight * (other.mean - self.mean), self.std + weight * (other.std - self.std))


# Mean and spread of a face's colour settle long before every pixel is counted: large faces (a portrait 1080p
# close-up is ~600k pixels) are sampled on a grid down to about this many, which made colour matching 8x cheaper.
_STATS_SAMPLES = 10_000
_GAIN_LOW = np.array([0.6, 0.0, 0.0], np.float32)  # per Lab channel: the least a spread is scaled by
_ROBUST_SPREADS = 2.5  # a sample this many spreads from the median colour counts e^-0.5 as much
_ROBUST_FLOOR = np.array([6.0, 2.0, 2.0], np.float32)  # Lab: below this, a spread is noise, not the skin's range


def lab_stats(rgb: np.ndarray, weights: np.ndarray) -> ColourStats | None:
    """Weighted LAB statistics of an RGB uint8 patch's skin; None when the weights are (almost) empty.

    Samples far from the weighted median colour (a shadow edge, a strand of hair, stubble the skin map let
    through) count less, so one stray region does not shift the whole face's colour."""
    step = max(1, round(np.sqrt(weights.size / _STATS_SAMPLES)))
    rgb, weights = rgb[::step, ::step], weights[::step, ::step]
    if float(weights.sum()) < 16:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    w = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1)
    inside = w > 0
    median = np.median(lab[inside], axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(lab[inside] - median), axis=0), _ROBUST_FLOOR)
    w = w * np.exp(-0.5 * np.square((lab - median) / (_ROBUST_SPREADS * spread)).sum(axis=1))
    total = float(w.sum())
    if total < 16:
        return None
    # Weighted sums as (N,) @ (N, 3) products: numpy's reductions over two axes of a 3-D array cost more than the
    # colour conversion on these ~10k samples.
    mean = (w @ lab) / total
    std = np.sqrt((w @ np.square(lab - mean)) / total) + 1e-3
    return ColourStats(mean, std)


def transfer_colour(rgb: np.ndarray, source: ColourStats, target: ColourStats, strength: float) -> np.ndarray:
    """Shift `rgb` (stats `source`) towards the colour of `target`: LAB mean/std transfer, scaled by strength."""
    if strength <= 0:
        return rgb
    # Contrast changes are limited so a flat-lit avatar on a contrasty frame does not turn blotchy; colour may fall
    # to none (a black-and-white film gets a black-and-white face) but rises at most as far as lightness.
    gain = np.clip(target.std / source.std, _GAIN_LOW, 1.6)
    # The transfer maps each 8-bit LAB channel on its own, so it is a 256-entry table per channel: the same float
    # arithmetic on 256 values instead of on every pixel of the face (identical output, ~5x cheaper on a big face).
    levels = np.repeat(np.arange(256, dtype=np.float32)[:, None], 3, axis=1)
    matched = (levels - source.mean) * gain + target.mean
    table = np.clip(levels + strength * (matched - levels), 0, 255).astype(np.uint8)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    return cv2.cvtColor(cv2.LUT(lab, table.reshape(256, 1, 3)), cv2.COLOR_LAB2RGB)


@dataclass
class ColourFollower:
    """The filmed face's and the pasted face's skin colour, each followed slowly over time, so matching one to the
    other does not flicker from frame to frame. One per segment."""

    follow: float = 0.25  # share of the new frame's statistics taken in per frame
    _target: ColourStats | None = None
    _pasted: ColourStats | None = None

    def reset(self) -> None:
        self._target, self._pasted = None, None

    def match(self, frame_patch: np.ndarray, pasted: np.ndarray, frame_skin: np.ndarray, pasted_skin: np.ndarray,
              strength: float) -> np.ndarray:
        """`pasted` recoloured so its skin (weights `pasted_skin`) has the filmed skin's (`frame_skin`) colour."""
        now_target, now_pasted = lab_stats(frame_patch, frame_skin), lab_stats(pasted, pasted_skin)
        if now_target is not None and now_pasted is not None:
            self._target = now_target if self._target is None else self._target.blend_towards(now_target, self.follow)
            self._pasted = now_pasted if self._pasted is None else self._pasted.blend_towards(now_pasted, self.follow)
        if self._target is None or self._pasted is None:
            return pasted
        return transfer_colour(pasted, self._pasted, self._target, strength)


def composite(frame_patch: np.ndarray, face_patch: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Alpha-blend `face_patch` over `frame_patch`; alpha is (H, W) float in [0, 1]."""
    a = alpha[..., None]
    blended = frame_patch.astype(np.float32) * (1.0 - a) + face_patch.astype(np.float32) * a
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
