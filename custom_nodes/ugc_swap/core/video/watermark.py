"""The invisible watermark (EU AI Act Art. 50(2) machine-readable marking) put into the swapped frames.

The pattern and why it survives re-encoding: watermark_pattern.py. Here it is added to the luma plane of each
swapped frame, with its strength following the picture: full (±3.5 levels at a bump's peak; PSNR ≥ 43 dB even
where the whole frame is textured) where there is texture to hide it, down to 30 % on flat areas (a wall, a sky),
where a slow ±1 level change, dithered, is below what the eye sees. The strength map and the pattern are worked
out at 1/8 of the frame size, where the pattern is still smooth, and brought up to full size once, so a 1080p
frame costs ~2.6 ms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .watermark_pattern import bump_image, cell_chips, flip_sign, payload_for

PEAK_LEVELS = 3.5  # luma levels at a bump's peak, on textured picture
FLAT_SHARE = 0.3  # of the peak, on flat picture
_TEXTURE_FULL = 4.0  # mean absolute detail (levels, at 1/8 size) from which the full strength is used
_STEP = 8  # the strength map's and the pattern's subsampling


@dataclass(frozen=True)
class WatermarkSettings:
    payload: int | None = None  # 32 bits; None: no mark

    @classmethod
    def for_text(cls, text: str) -> WatermarkSettings:
        """`off` (any case) for no mark; otherwise the mark of a hash of the text (a job's record and job id)."""
        return cls(None) if text.strip().lower() == "off" else cls(payload_for(text.strip()))

    @property
    def on(self) -> bool:
        return self.payload is not None


@lru_cache(maxsize=4)
def _small_pattern(payload: int, width: int, height: int) -> np.ndarray:
    return bump_image(_small(width), _small(height), cell_chips(payload))


def _small(n: int) -> int:
    return max(2, -(-n // _STEP))


def mark_luma(luma: np.ndarray, payload: int, seconds_into_segment: float) -> np.ndarray:
    """A marked copy of one frame's (height, width) uint8 luma."""
    import cv2  # here: the driver imports the settings without OpenCV

    height, width = luma.shape
    size = (_small(width), _small(height))
    small = cv2.resize(luma, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    detail = cv2.blur(np.abs(small - cv2.blur(small, (3, 3))), (5, 5))
    strength = np.clip(detail * (1.0 / _TEXTURE_FULL), FLAT_SHARE, 1.0)
    change = strength * _small_pattern(payload, width, height) * (PEAK_LEVELS * flip_sign(seconds_into_segment))
    full = cv2.resize(change, (width, height), interpolation=cv2.INTER_LINEAR)
    cv2.add(full, _dither(width, height), dst=full)
    return cv2.add(luma, full, dtype=cv2.CV_8U)


@lru_cache(maxsize=4)
def _dither(width: int, height: int) -> np.ndarray:
    """An ordered (Bayer) dither added before rounding: where the change is a fraction of a level, a share of the
    pixels moves by one, in a fine even texture, instead of the whole area stepping at one contour, which a flat
    wall would show as the outline of each bump."""
    bayer = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32)
    thresholds = (bayer + 0.5) / 16.0 - 0.5
    return np.tile(thresholds, (-(-height // 4), -(-width // 4)))[:height, :width].copy()


def mark_yuv420(planes: np.ndarray, width: int, height: int, mark: WatermarkSettings,
                seconds_into_segment: float, stage_seconds: dict[str, float] | None = None) -> np.ndarray:
    """A copy of 4:2:0 planes (stacked Y, U, V as (h * 3/2, w)) with the mark in its luma; chroma untouched. The
    time it took is added to `stage_seconds["watermark"]` when given (the job's report)."""
    if mark.payload is None:
        return planes
    started = time.perf_counter()
    out = planes.copy()
    out[:height] = mark_luma(planes[:height].reshape(height, width), mark.payload,
                             seconds_into_segment).reshape(out[:height].shape)
    if stage_seconds is not None:
        stage_seconds["watermark"] = stage_seconds.get("watermark", 0.0) + time.perf_counter() - started
    return out
