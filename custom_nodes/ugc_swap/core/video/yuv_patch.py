"""Swapped pixels into the source's own YUV planes, leaving every pixel the engine did not change as it was.

Engines work in RGB; the final encode takes BT.709 limited-range 4:2:0 planes. Converting a whole frame to RGB and
back blurs its chroma (4:2:0 up and down again) and moves samples by a level or two everywhere, which shows as a
seam wherever a converted frame meets one that was not. So only the pixels the engine changed are converted (a
chroma sample when any of its 2 x 2 pixels changed); every other sample stays exactly as the source had it.
"""

from __future__ import annotations

import cv2
import numpy as np

# A whole frame taken to RGB by ffmpeg and back (the lossless-clip path, where what the engine changed is no longer
# known): pixels it left alone differ from the source by that round trip only (measured: 99.9 % within 2 levels).
ROUND_TRIP_LEVELS = 2

# BT.709 RGB (0-255) to limited-range Y'CbCr: rows Y, Cb, Cr; last column the offset.
_BT709 = np.array([
    [0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255, 16.0],
    [-0.2126 / 1.8556 * 224 / 255, -0.7152 / 1.8556 * 224 / 255, 0.5 * 224 / 255, 128.0],
    [0.5 * 224 / 255, -0.7152 / 1.5748 * 224 / 255, -0.0722 / 1.5748 * 224 / 255, 128.0],
], np.float32)


_TO_RGB = np.linalg.inv(np.vstack([_BT709, [0.0, 0.0, 0.0, 1.0]]))[:3].astype(np.float32)


def yuv420_to_rgb(planes: np.ndarray, width: int, height: int) -> np.ndarray:
    """RGB of BT.709 limited-range 4:2:0 planes, chroma upsampled bilinearly: what engines are fed when the
    planes are at hand anyway (one decoder per run instead of a second one converting to RGB)."""
    luma, u, v = _planes(planes, width, height)
    full = (width, height)
    ycc = cv2.merge([luma, cv2.resize(u, full, interpolation=cv2.INTER_LINEAR),
                     cv2.resize(v, full, interpolation=cv2.INTER_LINEAR)])
    return cv2.transform(ycc, _TO_RGB)


def keep_untouched_pixels(swapped: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The swapped planes, with every sample within colour round-trip noise of the source replaced by the source's."""
    unchanged = np.abs(swapped.astype(np.int16) - source) <= ROUND_TRIP_LEVELS
    return np.where(unchanged, source, swapped)


def changed_box(before_rgb: np.ndarray, after_rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around every pixel that differs, widened to even edges (a 4:2:0 chroma sample covers
    2 x 2 pixels); None when nothing changed."""
    height, width = before_rgb.shape[:2]
    # Samples as one wide grey image: boundingRect takes one channel, and a max over the colour axis costs
    # ~50 ms a 1080p frame in numpy.
    x, y, w, h = cv2.boundingRect(cv2.absdiff(before_rgb, after_rgb).reshape(height, width * 3))
    if w == 0 or h == 0:
        return None
    x0, x1 = x // 3, (x + w + 2) // 3
    return x0 & ~1, y & ~1, min(width, (x1 + 1) & ~1), min(height, (y + h + 1) & ~1)


def patch_yuv420(source_yuv: np.ndarray, before_rgb: np.ndarray, after_rgb: np.ndarray) -> np.ndarray:
    """`source_yuv` (planes stacked as (h * 3/2, w)) with what the engine changed between `before_rgb` and
    `after_rgb` written in; the source planes themselves are not modified."""
    box = changed_box(before_rgb, after_rgb)
    if box is None:
        return source_yuv
    x0, y0, x1, y1 = box
    height, width = before_rgb.shape[:2]
    out = source_yuv.copy()
    luma, u, v = _planes(out, width, height)
    patch = after_rgb[y0:y1, x0:x1]
    # 255 where the engine changed a pixel (any channel; the sum saturates, so it is 0 only for no change at all).
    changed = cv2.transform(cv2.absdiff(before_rgb[y0:y1, x0:x1], patch), np.ones((1, 3), np.float32))
    half_size = ((x1 - x0) // 2, (y1 - y0) // 2)
    changed_half = cv2.resize(changed, half_size, interpolation=cv2.INTER_AREA)  # > 0 where any of 2 x 2 changed
    patch = patch.astype(np.float32)
    y_new = _convert(patch, _BT709[0:1])[..., 0]
    chroma = _convert(cv2.resize(patch, half_size, interpolation=cv2.INTER_AREA), _BT709[1:3])
    cy0, cy1, cx0, cx1 = y0 // 2, y1 // 2, x0 // 2, x1 // 2
    luma[y0:y1, x0:x1] = np.where(changed > 0, y_new, luma[y0:y1, x0:x1])
    u[cy0:cy1, cx0:cx1] = np.where(changed_half > 0, chroma[..., 0], u[cy0:cy1, cx0:cx1])
    v[cy0:cy1, cx0:cx1] = np.where(changed_half > 0, chroma[..., 1], v[cy0:cy1, cx0:cx1])
    return out


def _planes(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a frame stacked as (h * 3/2, w), as FrameReader gives YUV420."""
    flat, area = frame.reshape(-1), height * width
    return (flat[:area].reshape(height, width), flat[area:area + area // 4].reshape(height // 2, width // 2),
            flat[area + area // 4:].reshape(height // 2, width // 2))


def _convert(rgb: np.ndarray, rows: np.ndarray) -> np.ndarray:
    converted = cv2.transform(rgb, rows)
    if converted.ndim == 2:
        converted = converted[..., None]
    return np.clip(np.rint(converted), 0, 255).astype(np.uint8)
