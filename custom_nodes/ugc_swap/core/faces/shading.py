"""Light across the face: the pasted face takes on the filmed face's shading, not just its average colour.

A global colour match gives a face lit from the left the same brightness on both cheeks. Here both faces'
brightness is low-passed (a blur of about a sixth of the face: light, not features) over the visible face
only, and the pasted face is multiplied by the ratio, so it keeps its own features under the filmed light.
"""

from __future__ import annotations

import cv2
import numpy as np

from .resample import shrink

_WORK_SIDE = 64  # px: shading is smooth, so it is measured on a small copy
_SIGMA = 0.3  # of the face width: the light, not a moustache, a shadowed jaw or deep-set eyes
_GAIN_RANGE = (0.35, 2.5)  # a ratio outside this is a feature mismatch or a shadow edge, not light
_MIN_WEIGHT = 0.05  # normalized blur below this has too few face pixels to say anything


def _masked_lowpass(values: np.ndarray, weights: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Blur of `values` over the weighted pixels only (normalized convolution), and the blurred weights."""
    spread = cv2.GaussianBlur(weights, (0, 0), sigma)
    blurred = cv2.GaussianBlur(values * weights, (0, 0), sigma)
    return blurred / np.maximum(spread, 1e-6), spread


def follow_shading(pasted: np.ndarray, filmed: np.ndarray, pasted_skin: np.ndarray, filmed_skin: np.ndarray,
                   face_width: float, strength: float) -> np.ndarray:
    """`pasted` (RGB uint8) relit like `filmed`, the light of each measured over its own skin (weights 0..1, no
    features: a dark brow or beard is not a shadow)."""
    if strength <= 0 or float(filmed_skin.sum()) < 16 or float(pasted_skin.sum()) < 16:
        return pasted
    height, width = filmed_skin.shape
    scale = min(1.0, _WORK_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))

    def brightness(rgb: np.ndarray) -> np.ndarray:
        return shrink(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size).astype(np.float32)

    sigma = max(1.0, _SIGMA * face_width * scale)
    filmed_light, spread = _masked_lowpass(brightness(filmed), shrink(filmed_skin.astype(np.float32), size), sigma)
    pasted_light, pasted_spread = _masked_lowpass(brightness(pasted), shrink(pasted_skin.astype(np.float32), size),
                                                  sigma)
    spread = np.minimum(spread, pasted_spread)
    gain = np.clip((filmed_light + 1.0) / (pasted_light + 1.0), *_GAIN_RANGE)
    gain = np.where(spread > _MIN_WEIGHT, gain, 1.0)
    gain = 1.0 + strength * (gain - 1.0)
    gain = cv2.resize(gain.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(pasted.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)
