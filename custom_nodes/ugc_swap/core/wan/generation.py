"""Running the windows of one segment through a model, and the seam between this core and ComfyUI.

The core never imports ComfyUI: a `WindowSampler` (implemented by the Wan node with ComfyUI's own
WanAnimateToVideo, KSampler, TrimVideoLatent and VAE decode) turns one `WindowRequest` into frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .conditioning import SegmentConditioning
from .windows import Window


@dataclass(frozen=True)
class WindowRequest:
    window: Window
    width: int
    height: int
    reference: np.ndarray  # (H, W, 3) uint8
    pose: np.ndarray  # (length, H, W, 3) uint8: the window's own frames, context included
    face: np.ndarray  # (length, 512, 512, 3) uint8
    background: np.ndarray  # (length, H, W, 3) uint8
    mask: np.ndarray  # (length, H, W) float32
    continue_motion: np.ndarray | None  # (context, H, W, 3) uint8: the previous window's last frames
    seed: int


class WindowSampler(Protocol):
    def __call__(self, request: WindowRequest) -> np.ndarray:
        """All `window.length` frames of the window as (length, H, W, 3) uint8, context frames included."""
        ...


def window_request(conditioning: SegmentConditioning, window: Window, previous: np.ndarray | None,
                   seed: int) -> WindowRequest:
    """The window's slice of the segment's conditioning, padded with the last frame past the segment's end."""

    def take(frames: np.ndarray) -> np.ndarray:
        part = frames[window.start:window.end]
        if len(part) < window.length:
            part = np.concatenate([part, np.repeat(part[-1:], window.length - len(part), axis=0)])
        return part

    motion = previous[-window.context:] if previous is not None and window.context else None
    return WindowRequest(window, conditioning.region.width, conditioning.region.height, conditioning.reference,
                         take(conditioning.pose), take(conditioning.face), take(conditioning.background),
                         take(conditioning.mask), motion, seed + window.index)


def generate_segment(sampler: WindowSampler, conditioning: SegmentConditioning, windows: list[Window], seed: int,
                     on_window: Callable[[Window], None] = lambda w: None) -> np.ndarray:
    """(N, H, W, 3) uint8: every generation frame of the segment exactly once, windows chained by their context."""
    total = len(conditioning.pose)
    out = np.zeros((total, conditioning.region.height, conditioning.region.width, 3), np.uint8)
    previous: np.ndarray | None = None
    for window in windows:
        frames = sampler(window_request(conditioning, window, previous, seed))
        expected = (window.length, conditioning.region.height, conditioning.region.width, 3)
        if frames.shape != expected:
            raise ValueError(f"window {window.index}: sampler returned {frames.shape}, expected {expected}")
        new_end = min(window.end, total)
        out[window.new_start:new_end] = frames[window.context:window.context + new_end - window.new_start]
        previous = frames
        on_window(window)
    return out
