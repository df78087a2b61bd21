"""Putting a warped face into a frame: the feathered mask (with the filmed mouth interior cut out) and the blend."""

from __future__ import annotations

import cv2
import numpy as np

from .resample import shrink
from .warp import Region


# The face mask's feather is worked out at a scale where it spans about this many pixels: erosion by a disc and a
# blur both cost in proportion to their size, and the result is so smooth that a bilinear upscale loses nothing.
_MASK_FEATHER_PX = 12
# Inner-lip height over mouth width: below the first the lips count as closed, above the second as open.
_MOUTH_PARTED, _MOUTH_OPEN = 0.06, 0.14


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


def composite(frame_patch: np.ndarray, face_patch: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Alpha-blend `face_patch` over `frame_patch`; alpha is (H, W) float in [0, 1]."""
    a = alpha[..., None]
    blended = frame_patch.astype(np.float32) * (1.0 - a) + face_patch.astype(np.float32) * a
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
