"""A small visible "AI-generated" label (EU AI Act Art. 50(4) disclosure) drawn into the frames it is asked for.

`swapped`: on the swapped frames only; `whole`: on every frame (then no GOP of the source can be copied as it is).
The label is drawn once as a sprite (white text on a translucent dark plate) and blended into each frame's YUV
planes at its corner, so it costs a few hundred microseconds a frame and works on every path (engine frames,
encoded runs, the stitch's untouched frames).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

LabelMode = Literal["none", "swapped", "whole"]
LABEL_MODES: tuple[str, ...] = ("none", "swapped", "whole")
CORNERS: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
_PLATE_ALPHA = 0.55  # how dark the plate behind the text is
_MARGIN = 0.025  # of the frame's shorter side, between the plate and the frame's edges


@dataclass(frozen=True)
class LabelSettings:
    mode: LabelMode = "none"
    text: str = "AI-generated"
    corner: str = "top-right"
    size: float = 0.04  # plate height as a share of the frame's shorter side

    def on(self, swapped: bool) -> bool:
        return self.mode == "whole" or (self.mode == "swapped" and swapped)


@dataclass(frozen=True)
class _Sprite:
    top: int
    left: int
    y: np.ndarray  # float32 (h, w) luma of the sprite, 0-255 (limited range applied)
    alpha: np.ndarray  # float32 (h, w)
    uv: np.ndarray  # float32 (h/2, w/2, 2) chroma of the sprite
    alpha_half: np.ndarray  # float32 (h/2, w/2)


@lru_cache(maxsize=8)
def _sprite(label: LabelSettings, width: int, height: int) -> _Sprite:
    import cv2  # here, not at the top: the driver names the label modes without loading OpenCV

    short = min(width, height)
    plate_h = max(12, int(round(label.size * short))) // 2 * 2
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = cv2.getFontScaleFromHeight(font, int(plate_h * 0.55), 1)
    thickness = max(1, int(round(plate_h / 18)))
    (text_w, text_h), baseline = cv2.getTextSize(label.text, font, scale, thickness)
    plate_w = min(width - 2, text_w + plate_h) // 2 * 2
    rgb = np.zeros((plate_h, plate_w, 3), np.uint8)
    text_alpha = np.zeros((plate_h, plate_w), np.uint8)
    origin = ((plate_w - text_w) // 2, (plate_h + text_h) // 2)
    cv2.putText(text_alpha, label.text, origin, font, scale, 255, thickness, cv2.LINE_AA)
    rgb[:] = 255
    alpha = np.maximum(_PLATE_ALPHA, text_alpha.astype(np.float32) / 255.0)
    # White where the text is, black under the plate: the plate darkens, the text lights.
    rgb = (rgb.astype(np.float32) * (text_alpha[..., None] / 255.0) / np.maximum(alpha[..., None], 1e-6))
    yuv = _rgb_to_bt709_limited(rgb)
    margin = int(round(_MARGIN * short))
    top = margin if label.corner.startswith("top") else height - plate_h - margin
    left = margin if label.corner.endswith("left") else width - plate_w - margin
    top, left = max(0, top) // 2 * 2, max(0, left) // 2 * 2
    half = cv2.resize(alpha, (plate_w // 2, plate_h // 2), interpolation=cv2.INTER_AREA)
    uv_half = cv2.resize(yuv[..., 1:], (plate_w // 2, plate_h // 2), interpolation=cv2.INTER_AREA)
    return _Sprite(top, left, yuv[..., 0], alpha, uv_half, half)


def _rgb_to_bt709_limited(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i] / 255.0 for i in range(3))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.stack([16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748], axis=-1)


def draw_label_yuv420(planes: np.ndarray, width: int, height: int, label: LabelSettings) -> np.ndarray:
    """A copy of 4:2:0 planes (stacked Y, U, V as (h * 3/2, w)) with the label blended in at its corner."""
    sprite = _sprite(label, width, height)
    out = planes.copy()
    h, w = sprite.y.shape
    y = out[:height].reshape(height, width)
    region = y[sprite.top:sprite.top + h, sprite.left:sprite.left + w].astype(np.float32)
    y[sprite.top:sprite.top + h, sprite.left:sprite.left + w] = np.clip(
        region + (sprite.y - region) * sprite.alpha + 0.5, 0, 255).astype(np.uint8)
    chroma = out[height:].reshape(2, height // 2, width // 2)
    ct, cl = sprite.top // 2, sprite.left // 2
    for channel in range(2):
        area = chroma[channel, ct:ct + h // 2, cl:cl + w // 2].astype(np.float32)
        chroma[channel, ct:ct + h // 2, cl:cl + w // 2] = np.clip(
            area + (sprite.uv[..., channel] - area) * sprite.alpha_half + 0.5, 0, 255).astype(np.uint8)
    return out
