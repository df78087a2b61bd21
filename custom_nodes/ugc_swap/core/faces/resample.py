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
    """`image` resized to `size` (width, height), no larger than it.

    Where the image's sides are not multiples of the whole factor, the last few (< factor) rows and columns are
    left out of the averaging; callers that map coordinates back exactly give sides that are multiples."""
    height, width = image.shape[:2]
    factor = min(whole_factor(width, size[0]), whole_factor(height, size[1]))
    if factor >= 2:
        height, width = height - height % factor, width - width % factor
        image = cv2.resize(image[:height, :width], (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
