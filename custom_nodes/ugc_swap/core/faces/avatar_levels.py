"""The avatar face at halving sizes, so the warp never samples it at much less than its own resolution.

A bilinear warp that shrinks an image by more than about 2x skips pixels: which ones it reads changes with the
face's sub-pixel position, so fine texture (hair, pores, eyelashes) shimmers from frame to frame. A customer's
photo often has a face four times the width of the filmed one; the swapped face then visibly crawls, and the
face-landmark jitter measured on the result was 1.7x the filmed face's with perfectly steady target points, 1.3x
with the avatar shrunk to the filmed size first. Each frame warps from the level nearest above the filmed face's
size (a mip map without the blend between levels); the level changes only when the size has clearly left the
current level's range, so a face hovering at a boundary does not flip between two sharpnesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .detail import grain_pattern
from .resample import shrink

# Levels stop before the face gets smaller than this: below it the filmed face is too small to show texture.
_SMALLEST_FACE_PX = 16.0
# The level in use is kept while it is between this much smaller and this much larger than twice the filmed face.
_KEEP_MARGIN = 1.15
_MAX_LEVELS = 12  # halvings plus enlargements: a 16 px face at the bottom, a 4096 px one at the top


# Channels of a level's image: RGB, the face weight, and the skin grain pattern (detail.py), which is drawn anew at
# every size: resampled noise would lose its fine grain.
GRAIN_CHANNEL = 4
SKIN_CHANNEL = 5  # the photo's plain skin (avatar_cleanup.py), for colour and light statistics


def _fresh_grain(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] > GRAIN_CHANNEL:
        image = image.copy()
        image[..., GRAIN_CHANNEL] = grain_pattern(image.shape[:2])
    return image


@dataclass(frozen=True)
class AvatarLevel:
    image: np.ndarray  # uint8: RGB plus any extra channels warped with it (see GRAIN_CHANNEL)
    points: np.ndarray  # (N, 2) mesh points in this level's pixels
    face_width: float


def avatar_levels(image: np.ndarray, points: np.ndarray) -> tuple[AvatarLevel, ...]:
    """The avatar at full size, then halved (area averaged) while its face stays at least _SMALLEST_FACE_PX wide."""
    level = AvatarLevel(_fresh_grain(image), points.astype(np.float64), float(np.ptp(points[:, 0])))
    levels = [level]
    while level.face_width / 2 >= _SMALLEST_FACE_PX and min(level.image.shape[:2]) >= 4:
        height, width = level.image.shape[:2]
        # Each output pixel averages exactly 2x2 input pixels (an odd last row or column is left out).
        halved = shrink(level.image, (width // 2, height // 2))
        # Pixel centres: input centre x maps to (x + 0.5) / 2 - 0.5 in the halved image.
        level = AvatarLevel(_fresh_grain(np.ascontiguousarray(halved)), (level.points + 0.5) / 2 - 0.5,
                            level.face_width / 2)
        levels.append(level)
    return tuple(levels)


def enlarged(level: AvatarLevel, factor: int) -> AvatarLevel:
    """`level` enlarged `factor` times with Lanczos resampling (the sharpest classical interpolation short of
    learnt models), for filmed faces larger than the photo's; detail.py then matches its fine detail to the
    footage's."""
    height, width = level.image.shape[:2]
    image = cv2.resize(level.image, (width * factor, height * factor), interpolation=cv2.INTER_LANCZOS4)
    return AvatarLevel(_fresh_grain(image), (level.points + 0.5) * factor - 0.5, level.face_width * factor)


def ideal_level(levels: tuple[AvatarLevel, ...], face_width: float) -> int:
    """Index of the smallest level whose face is still at least `face_width` wide (the largest level if none is)."""
    fitting = [i for i, level in enumerate(levels) if level.face_width >= face_width]
    return fitting[-1] if fitting else 0


@dataclass
class LevelChooser:
    """Picks the level for each frame of one segment, holding on to the current one near a boundary; a filmed
    face larger than the photo's gets the photo enlarged (once per size, kept for the segment)."""

    levels: tuple[AvatarLevel, ...]
    _current: int | None = field(default=None, init=False)

    def __call__(self, face_width: float) -> AvatarLevel:
        while face_width > self.levels[0].face_width * _KEEP_MARGIN and len(self.levels) < _MAX_LEVELS:
            self.levels = (enlarged(self.levels[0], 2), *self.levels)
            self._current = None if self._current is None else self._current + 1
        if self._current is None or not self._still_fits(self._current, face_width):
            self._current = ideal_level(self.levels, face_width)
        return self.levels[self._current]

    def _still_fits(self, index: int, face_width: float) -> bool:
        ratio = self.levels[index].face_width / max(face_width, 1e-6)
        upscaled_only_by_necessity = index == 0 or ratio >= 1 / _KEEP_MARGIN
        shrinks_at_most_twice = ratio <= 2 * _KEEP_MARGIN or index == len(self.levels) - 1
        return upscaled_only_by_necessity and shrinks_at_most_twice
