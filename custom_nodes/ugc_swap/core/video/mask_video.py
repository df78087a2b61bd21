"""The visible-face mask as a video an artist can inspect, edit and feed back: one grey frame per source frame.

It spans the whole source video (black outside the swap ranges), so it lines up frame for frame with the video
itself in any editor or ComfyUI node, and an edited copy can be wired back in as it is. Written while the swap
runs, one frame at a time, like every other video here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from ..errors import VideoInputError
from ..segment_plan import FrameRange
from .video_probe import VideoInfo, probe_video
from .video_stream import GRAY, MASK_ENCODE, FrameReader, FrameWriter


class MaskVideoWriter:
    """Writes masks for the frames of `swap_ranges` and black for every frame in between, in order.

    Only one black frame per gap (and one for the last frame) goes through the pipe; ffmpeg repeats it over the
    rest of the gap. A 30 s 1080p video's 600 untouched frames were 1.2 GB of black piped and analysed one by one."""

    def __init__(self, path: Path, source: VideoInfo, swap_ranges: Sequence[FrameRange]) -> None:
        self._total = source.frame_count
        self._slots = mask_slots(swap_ranges, source.frame_count)
        self._writer = FrameWriter(path, source.width, source.height, source.fps, MASK_ENCODE, pixel_format=GRAY,
                                   slots=self._slots)
        self._black = np.zeros((source.height, source.width), np.uint8)
        self._next_slot = 0

    def skip_to(self, frame_index: int) -> None:
        """Black frames up to (not including) `frame_index`."""
        if frame_index > self._next_slot:
            self._send(self._black)
            self._next_slot = frame_index

    def write(self, mask: np.ndarray | None) -> None:
        self._send(self._black if mask is None else mask)
        self._next_slot += 1

    def close(self) -> Path:
        last = self._next_slot
        self.skip_to(self._total)
        if self._total - 1 > last:
            self._send(self._black)
        if self._writer.frames_written != len(self._slots):
            self._writer.abort()
            raise ValueError(f"{self._writer.frames_written} mask frames sent for {len(self._slots)} slots")
        return self._writer.close()

    def abort(self) -> None:
        self._writer.abort()

    def _send(self, frame: np.ndarray) -> None:
        if self._writer.frames_written >= len(self._slots):
            raise ValueError("more mask frames than the swap ranges hold")
        self._writer.write(frame)


def mask_slots(swap_ranges: Sequence[FrameRange], frame_count: int) -> list[int]:
    """The frame index of each frame MaskVideoWriter sends: every swapped frame, the first frame of each gap,
    and the last frame of the video."""
    slots, cursor = [], 0
    for swap in swap_ranges:
        if swap.start > cursor:
            slots.append(cursor)
        slots.extend(range(swap.start, swap.end))
        cursor = swap.end
    if cursor < frame_count:
        slots.append(cursor)
        if frame_count - 1 > cursor:
            slots.append(frame_count - 1)
    return slots


def wired_masks(path: str | Path, segment: FrameRange, frame_size: tuple[int, int]) -> Iterator[np.ndarray]:
    """An artist's mask video, frames `segment`, as uint8 (H, W) masks at the frame size (any colour: its
    brightness counts). The video must cover the whole source, frame for frame."""
    info = probe_video(path)
    if info.frame_count < segment.end:
        raise VideoInputError(f"the mask video has {info.frame_count} frames but the swap needs frame {segment.end - 1}; "
                             "it must cover the whole source video, frame for frame")
    for frame in FrameReader(info, segment.start, segment.end):
        mask = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        yield mask if mask.shape[::-1] == frame_size else cv2.resize(mask, frame_size, interpolation=cv2.INTER_LINEAR)
