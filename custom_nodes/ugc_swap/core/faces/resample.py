"""Shrinking images fast without aliasing.

OpenCV's area averaging (INTER_AREA) is fast only for whole-number factors; for any other factor it takes a
general path that cost 2-3 ms on a 500 px face crop. Averaging by the largest whole factor and then bilinear
resampling the remaining factor (below 2, where bilinear does not alias) keeps area averaging's quality.
"""

from __future__ import annotations

import cv2
import numpy as np


def whole_factor(length: int, target: int) -> int:
    """The largest whole factor by which `length` px can be averaged down without going below `target` px."""
    return max(1, length // max(target, 1))


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` resized to `size` (width, height), no larger than it, with cv2.resize's pixel geometry.

    Where a side is not a multiple of the whole factor, its last few (< factor) pixels are left out of the
    averaging and the bilinear step reaches them by repeating the edge: a fraction of a pixel of the result."""
    height, width = image.shape[:2]
    factor = min(whole_factor(width, size[0]), whole_factor(height, size[1]))
    if factor == 1:
        return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    averaged = cv2.resize(image[: height - height % factor, : width - width % factor],
                          (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    if averaged.shape[1] == size[0] and averaged.shape[0] == size[1]:
        return averaged
    # Output pixel centres mapped into the averaged image as cv2.resize maps them into the original one.
    ax, ay = width / (size[0] * factor), height / (size[1] * factor)
    to_averaged = np.array([[ax, 0.0, 0.5 * ax - 0.5], [0.0, ay, 0.5 * ay - 0.5]])
    return cv2.warpAffine(averaged, to_averaged, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
