"""A few frames of each swap segment kept while the swap has them in hand: before and after, whole and zoomed.

The quality figures and the before/after sheet are made from these, so a job never decodes its source or its
result a second time to judge itself. A sample holds the whole frame shrunk for the sheet and a crop around the
face at a fixed face size, before and after the swap; a few hundred kB each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..segment_plan import FrameRange

SAMPLES_PER_SEGMENT = 3
FRAME_LONG_SIDE = 480  # px of the whole frame kept for the sheet
FACE_PX = 160  # px: the swapped face's width in the kept crops
_CROP_PER_FACE = 2.0  # the crop's side, in face widths: the face with its hairline, jaw and some background


@dataclass(frozen=True)
class QualitySample:
    segment: int  # which swap range of the plan
    frame: int  # source frame index
    source: np.ndarray  # RGB uint8, the whole frame before the swap, long side FRAME_LONG_SIDE
    result: np.ndarray  # ... and after it
    face_box: tuple[int, int, int, int] | None  # where the swap showed a face, full-size pixels; None: no face
    source_face: np.ndarray | None  # RGB uint8 crop around face_box before the swap, the face FACE_PX wide
    result_face: np.ndarray | None  # ... and after it


def sample_frame_indices(swap_range: FrameRange, per_segment: int = SAMPLES_PER_SEGMENT) -> list[int]:
    """Evenly spread frames inside a swap range, away from its cross-faded edges."""
    return [swap_range.start + int((k + 1) * swap_range.length / (per_segment + 1)) for k in range(per_segment)]


def _shrunk(rgb: np.ndarray) -> np.ndarray:
    scale = min(1.0, FRAME_LONG_SIDE / max(rgb.shape[:2]))
    if scale == 1.0:
        return rgb.copy()
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def face_crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A square crop centred on `box`, _CROP_PER_FACE box widths wide, scaled so the box is FACE_PX wide;
    parts outside the frame are black."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = box
    side = max(2, int(round(_CROP_PER_FACE * max(x1 - x0, y1 - y0))))
    left, top = (x0 + x1 - side) // 2, (y0 + y1 - side) // 2
    crop = rgb[max(top, 0):min(top + side, height), max(left, 0):min(left + side, width)]
    crop = cv2.copyMakeBorder(crop, max(-top, 0), max(top + side - height, 0), max(-left, 0),
                              max(left + side - width, 0), cv2.BORDER_CONSTANT)
    out = round(_CROP_PER_FACE * FACE_PX)
    return cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA if side > out else cv2.INTER_CUBIC)


def _mask_box(visible: np.ndarray | None) -> tuple[int, int, int, int] | None:
    if visible is None:
        return None
    rows, cols = np.flatnonzero(visible.max(axis=1) > 127), np.flatnonzero(visible.max(axis=0) > 127)
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


class SampleCollector:
    """Keeps the sample frames of every swap range as the swap passes them: the engine's input frames through
    `watch`, its output frames through `take`."""

    def __init__(self, swap_ranges: tuple[FrameRange, ...], per_segment: int = SAMPLES_PER_SEGMENT) -> None:
        self._wanted = {index: segment for segment, frames in enumerate(swap_ranges)
                        for index in sample_frame_indices(frames, per_segment)}
        self._sources: dict[int, np.ndarray] = {}
        self.samples: list[QualitySample] = []

    def watch(self, frames: Iterable[np.ndarray], swap_range: FrameRange) -> Iterator[np.ndarray]:
        """`frames` (the engine's input for `swap_range`) unchanged, the wanted ones kept in full until their
        output comes."""
        for index, frame in enumerate(frames, start=swap_range.start):
            if index in self._wanted:
                self._sources[index] = frame
            yield frame

    def take(self, index: int, result: np.ndarray, visible: np.ndarray | None) -> None:
        """The engine's output for source frame `index` and the mask where it showed a face."""
        source = self._sources.pop(index, None)
        if source is None:
            return
        box = _mask_box(visible)
        crops = (face_crop(source, box), face_crop(result, box)) if box is not None else (None, None)
        self.samples.append(QualitySample(self._wanted[index], index, _shrunk(source), _shrunk(result), box,
                                          *crops))
