"""The pasted face's skin in the filmed skin's colour, followed slowly over time.

Colour is matched on plain skin only (features, beards and hair are left out by the weights given), as a gain per
channel in linear light: a shadow on the customer's cheek stays the same share darker than their skin whatever
the filmed skin's tone, where shifting and stretching Lab values (the usual transfer) turns a pale face's soft
shadows and lipstick into dark red smears on a dark-skinned filmed face. The contrast of the skin's light may
change a little, its colourfulness may only fall (a black-and-white film gets a black-and-white face).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# A face's skin colour settles long before every pixel is counted: large faces are sampled on a grid down to about
# this many pixels.
_STATS_SAMPLES = 10_000
_ROBUST_SPREADS = 2.5  # a sample this many spreads from the median colour counts e^-0.5 as much
_ROBUST_FLOOR = np.array([6.0, 2.0, 2.0], np.float32)  # Lab: below this, a spread is noise, not the skin's range
_CONTRAST_RANGE = (0.6, 1.15)  # how much the skin's light contrast may be scaled (lowered more freely than raised)
_LEVELS = np.arange(256, dtype=np.float32) / 255.0
_COLOUR_FILM_CHROMA = 6.0  # Lab chroma of skin: below this the footage is (close to) black and white


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


@dataclass(frozen=True)
class SkinColour:
    mean: np.ndarray  # (3,) linear RGB of the skin
    contrast: float  # spread of the skin's log luminance
    chroma: float  # how colourful the skin is: Lab chroma of its mean colour

    def blend_towards(self, other: SkinColour, weight: float) -> SkinColour:
        return SkinColour(self.mean + weight * (other.mean - self.mean),
                          self.contrast + weight * (other.contrast - self.contrast),
                          self.chroma + weight * (other.chroma - self.chroma))


def skin_colour(rgb: np.ndarray, weights: np.ndarray) -> SkinColour | None:
    """The skin colour of an RGB uint8 patch over `weights`; None when the weights are (almost) empty.

    Samples far from the weighted median colour (a shadow edge, a strand of hair, stubble the skin map let
    through) count less, so one stray region does not shift the whole face's colour."""
    step = max(1, round(np.sqrt(weights.size / _STATS_SAMPLES)))
    rgb, weights = np.ascontiguousarray(rgb[::step, ::step]), weights[::step, ::step]
    if float(weights.sum()) < 16:
        return None
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    w = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1)
    inside = w > 0
    median = np.median(lab[inside], axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(lab[inside] - median), axis=0), _ROBUST_FLOOR)
    w = w * np.exp(-0.5 * np.square((lab - median) / (_ROBUST_SPREADS * spread)).sum(axis=1))
    total = float(w.sum())
    if total < 16:
        return None
    linear = _linear(rgb.reshape(-1, 3).astype(np.float32) / 255.0)
    # Weighted sums as (N,) @ (N, 3) products: cheaper than numpy's reductions over a 3-D array.
    mean = (w @ linear) / total
    luminance = np.log(linear @ np.array([0.2126, 0.7152, 0.0722], np.float32) + 1e-3)
    contrast = float(np.sqrt((w @ np.square(luminance - (w @ luminance) / total)) / total))
    mean_lab = (w @ lab) / total
    return SkinColour(mean, contrast, float(np.hypot(mean_lab[1] - 128.0, mean_lab[2] - 128.0)))


def transfer_colour(rgb: np.ndarray, source: SkinColour, target: SkinColour, strength: float) -> np.ndarray:
    """`rgb` (whose skin is `source`) recoloured so its skin is `target`'s, as far as `strength` (0..1) says."""
    if strength <= 0:
        return rgb
    contrast = float(np.clip(target.contrast / max(source.contrast, 1e-6), *_CONTRAST_RANGE))
    # Each channel maps on its own: a 256-entry table per channel, the float work done on 256 values.
    levels = _linear(_LEVELS)[:, None]
    matched = target.mean * (levels / np.maximum(source.mean, 1e-6)) ** contrast
    table = _srgb(levels + strength * (matched - levels))
    out = cv2.LUT(rgb, np.clip(table * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3))
    # The channel gains already give the skin the filmed skin's colour; what they cannot do is take the colour
    # out of lips and eyes when the film itself has none (black and white: its skin has almost no chroma).
    colourful = min(1.0, target.chroma / _COLOUR_FILM_CHROMA)
    keep = 1.0 - strength * (1.0 - colourful)
    if keep < 0.97:
        grey = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float32)
        out = np.clip(grey + keep * (out.astype(np.float32) - grey) + 0.5, 0, 255).astype(np.uint8)
    return out


class ColourFollower:
    """The filmed face's and the pasted face's skin colour, each followed slowly over time, so matching one to the
    other does not flicker from frame to frame. One per segment."""

    def __init__(self, follow: float = 0.25) -> None:
        self.follow = follow  # share of the new frame's figures taken in per frame
        self.reset()

    def reset(self) -> None:
        self._target: SkinColour | None = None
        self._pasted: SkinColour | None = None

    def match(self, frame_patch: np.ndarray, pasted: np.ndarray, frame_skin: np.ndarray, pasted_skin: np.ndarray,
              strength: float) -> np.ndarray:
        """`pasted` recoloured so its skin (weights `pasted_skin`) has the filmed skin's (`frame_skin`) colour."""
        now_target, now_pasted = skin_colour(frame_patch, frame_skin), skin_colour(pasted, pasted_skin)
        if now_target is not None and now_pasted is not None:
            self._target = now_target if self._target is None else self._target.blend_towards(now_target, self.follow)
            self._pasted = now_pasted if self._pasted is None else self._pasted.blend_towards(now_pasted, self.follow)
        if self._target is None or self._pasted is None:
            return pasted
        return transfer_colour(pasted, self._pasted, self._target, strength)
