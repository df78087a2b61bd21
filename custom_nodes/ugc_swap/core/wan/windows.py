"""Cutting a swap segment into WanAnimateToVideo windows, and mapping between the source and generation rates.

WanAnimateToVideo makes `length` frames per call (length = 4k + 1, the VAE's temporal stride). A window after the
first is given the previous window's last `motion` frames as `continue_motion`: it re-generates them as context
and they are dropped after decoding (the node reports them as `trim_image`). So window 0 covers frames
[0, length) and each later one adds `length - motion` new frames. The last window is shortened to what is left,
still 4k + 1, and anything it makes past the segment's end is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import UgcSwapError


class WindowPlanError(UgcSwapError):
    code = "invalid_wan_settings"


@dataclass(frozen=True)
class Window:
    index: int
    start: int  # first generation frame the window's output covers, context included
    length: int  # frames WanAnimateToVideo makes (4k + 1)
    context: int  # leading frames that repeat the previous window's end; generated again, then dropped

    @property
    def new_start(self) -> int:
        return self.start + self.context

    @property
    def end(self) -> int:
        return self.start + self.length


def valid_length(frames: int) -> int:
    """The smallest 4k + 1 that is at least `frames`."""
    return 4 * math.ceil(max(frames - 1, 0) / 4) + 1


def plan_windows(frame_count: int, window_length: int, motion_frames: int) -> list[Window]:
    """Windows that together produce every one of `frame_count` frames exactly once (context frames aside)."""
    if frame_count < 1:
        raise WindowPlanError("a swap segment needs at least one frame")
    if window_length < 5 or (window_length - 1) % 4:
        raise WindowPlanError(f"window length must be 4k + 1 and at least 5, got {window_length}")
    if motion_frames < 1 or (motion_frames - 1) % 4 or motion_frames >= window_length:
        raise WindowPlanError(
            f"motion frames must be 4k + 1 and below the window length {window_length}, got {motion_frames}"
        )
    windows = [Window(0, 0, min(window_length, valid_length(frame_count)), 0)]
    while windows[-1].end < frame_count:
        previous = windows[-1]
        remaining = frame_count - previous.end
        length = min(window_length, valid_length(remaining + motion_frames))
        windows.append(Window(previous.index + 1, previous.end - motion_frames, length, motion_frames))
    return windows


def generation_frame_count(source_frames: int, source_fps: Fraction, generation_fps: Fraction) -> int:
    """How many frames the model makes for a segment; the same rate as the source when generation_fps <= 0."""
    if generation_fps <= 0 or generation_fps >= source_fps:
        return source_frames
    return max(1, round(source_frames * generation_fps / source_fps))


def source_index_for(generated_index: int, source_frames: int, generated_frames: int) -> int:
    """The source frame that drives generated frame `generated_index` (nearest in time)."""
    if generated_frames <= 1:
        return 0
    position = generated_index * (source_frames - 1) / (generated_frames - 1)
    return min(source_frames - 1, int(round(position)))


def generated_position_for(source_index: int, source_frames: int, generated_frames: int) -> tuple[int, int, float]:
    """(a, b, t): source frame `source_index` is generated frame a blended towards b by t, for the way back."""
    if generated_frames <= 1 or source_frames <= 1:
        return 0, 0, 0.0
    position = source_index * (generated_frames - 1) / (source_frames - 1)
    low = min(int(math.floor(position)), generated_frames - 1)
    high = min(low + 1, generated_frames - 1)
    return low, high, position - low
