"""A before/after sheet of a finished job: a few frames of each swap segment, source above, result below.

Artists and Make.com users judge a swap faster by looking than by reading numbers; the sheet goes next to the
video in S3 and its URL into the result.
"""

from __future__ import annotations

import cv2
import numpy as np

from .segment_plan import FrameRange

_GAP = 4


def preview_frame_indices(swap_ranges: tuple[FrameRange, ...], per_segment: int = 3) -> list[int]:
    """Evenly spread frames inside each swap segment, away from its cross-faded edges."""
    indices = []
    for frames in swap_ranges:
        for k in range(per_segment):
            indices.append(frames.start + int((k + 1) * frames.length / (per_segment + 1)))
    return indices


def preview_sheet(source_frames: list[np.ndarray], result_frames: list[np.ndarray], tile_width: int = 320) -> np.ndarray:
    """One RGB image: the source frames in the top row, the matching result frames in the bottom row."""
    if not source_frames or len(source_frames) != len(result_frames):
        raise ValueError("need the same, non-zero number of source and result frames")
    height, width = source_frames[0].shape[:2]
    tile_height = max(1, round(tile_width * height / width))

    def row(frames: list[np.ndarray]) -> np.ndarray:
        tiles = [cv2.resize(f, (tile_width, tile_height), interpolation=cv2.INTER_AREA) for f in frames]
        spaced = [np.pad(t, ((0, 0), (0, _GAP), (0, 0)), constant_values=255) for t in tiles]
        return np.hstack(spaced)[:, :-_GAP]

    top, bottom = row(source_frames), row(result_frames)
    return np.vstack([top, np.full((_GAP, top.shape[1], 3), 255, np.uint8), bottom])
