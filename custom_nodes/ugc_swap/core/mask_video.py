"""The visible-face mask as a video an artist can inspect, edit and feed back: one grey frame per source frame.

It spans the whole source video (black outside the swap ranges), so it lines up frame for frame with the video
itself in any editor or ComfyUI node, and an edited copy can be wired back in as it is. Written while the swap
runs, one frame at a time, like every other video here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from .errors import VideoInputError
from .segment_plan import FrameRange
from .video_probe import VideoInfo, probe_video
from .video_stream import GRAY, MASK_ENCODE, FrameReader, FrameWriter


class MaskVideoWriter:
    """Writes masks for chosen frames of `source` and black for every frame in between, in order."""

    def __init__(self, path: Path, source: VideoInfo) -> None:
        self._source = source
        self._writer = FrameWriter(path, source.width, source.height, source.fps, MASK_ENCODE, pixel_format=GRAY)
        self._black = np.zeros((source.height, source.width), np.uint8)

    def skip_to(self, frame_index: int) -> None:
        """Black frames up to (not including) `frame_index`."""
        while self._writer.frames_written < frame_index:
            self._writer.write(self._black)

    def write(self, mask: np.ndarray | None) -> None:
        self._writer.write(self._black if mask is None else mask)

    def close(self) -> Path:
        self.skip_to(self._source.frame_count)
        return self._writer.close()

    def abort(self) -> None:
        self._writer.abort()


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
