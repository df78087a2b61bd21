"""Where in the frame the model works, and at what size: the fewer pixels, the cheaper the video.

`head` scope: one box per segment that holds the head (face plus hair) in every frame, so the crop does not
move (a moving crop would make the generated background swim). `person` scope: the whole frame. Either way the
model sees it at a working size near the pixel budget, in multiples of 16 as WanAnimateToVideo requires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

MaskScope = Literal["head", "person"]
MASK_SCOPES: tuple[MaskScope, ...] = ("head", "person")
_STEP = 16
# The face detector's box spans brows to chin; the head with hair and a little neck is about this much bigger.
_HEAD_SCALE = 2.0
_HEAD_LIFT = 0.15  # hair sits above the face box: shift the head box up by this share of the face height


@dataclass(frozen=True)
class WorkRegion:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in source pixels
    width: int  # working size the model generates at
    height: int

    @property
    def box_size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]


def working_size(aspect: float, pixel_budget: int) -> tuple[int, int]:
    """(width, height) near `pixel_budget` pixels with width/height near `aspect`, both multiples of 16."""
    height = math.sqrt(pixel_budget / aspect)
    width = height * aspect
    return max(_STEP, int(round(width / _STEP)) * _STEP), max(_STEP, int(round(height / _STEP)) * _STEP)


def person_region(frame_size: tuple[int, int], pixel_budget: int) -> WorkRegion:
    width, height = frame_size
    return WorkRegion((0, 0, width, height), *working_size(width / height, pixel_budget))


def head_region(points_per_frame: list[np.ndarray | None], frame_size: tuple[int, int],
                pixel_budget: int) -> WorkRegion | None:
    """A square box (clamped to the frame) holding the head in every frame where a face was found; None if none."""
    boxes = [_head_box(points) for points in points_per_frame if points is not None]
    if not boxes:
        return None
    return _square_region(np.array(boxes), frame_size, pixel_budget)


def mask_region(masks: list[np.ndarray], frame_size: tuple[int, int], pixel_budget: int) -> WorkRegion | None:
    """A square box holding every masked pixel of the segment (for a wired-in mask); None if all are empty."""
    boxes = []
    for mask in masks:
        ys, xs = np.nonzero(mask)
        if len(xs):
            boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    if not boxes:
        return None
    return _square_region(np.array(boxes, np.float64), frame_size, pixel_budget)


def _square_region(boxes: np.ndarray, frame_size: tuple[int, int], pixel_budget: int) -> WorkRegion:
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    frame_w, frame_h = frame_size
    side = min(max(x1 - x0, y1 - y0), frame_w, frame_h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), frame_w - side)))
    top = int(round(min(max(cy - side / 2, 0), frame_h - side)))
    side = int(round(side))
    return WorkRegion((left, top, left + side, top + side), *working_size(1.0, pixel_budget))


def _head_box(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * _HEAD_SCALE
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - _HEAD_LIFT * h
    return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
