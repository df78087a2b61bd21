"""What a frame of the result discloses: the invisible watermark in every swapped frame (watermark.py), then the
visible label where it is asked for (label.py). Both stitch paths, encoded runs beside copied GOPs and the
whole-video encode, call this one function, so they cannot mark a frame differently."""

from __future__ import annotations

import numpy as np

from .label import LabelSettings, draw_label_yuv420
from .watermark import WatermarkSettings, mark_yuv420


def disclose_yuv420(planes: np.ndarray, width: int, height: int, label: LabelSettings, watermark: WatermarkSettings,
                    seconds_into_segment: float | None, stage_seconds: dict[str, float]) -> np.ndarray:
    """4:2:0 planes as the result shows them. `seconds_into_segment`: where a swapped frame lies in its swap
    segment (the mark's flips follow it); None for a kept frame. The mark's time goes into `stage_seconds`."""
    swapped = seconds_into_segment is not None
    if swapped:
        planes = mark_yuv420(planes, width, height, watermark, seconds_into_segment, stage_seconds)
    if label.on(swapped=swapped):
        planes = draw_label_yuv420(planes, width, height, label)
    return planes
