"""Which frames of the final video can be the source's own compressed pictures, and which must be encoded.

A stretch of untouched frames can be copied packet for packet when it starts on an IDR picture and ends where the
next IDR picture (or the video) begins: nothing inside it refers to a picture outside it. Everything else (the
swapped frames, and the untouched frames between a cut and the nearest IDR) is encoded, in as few runs as
possible; each run starts with an IDR picture of its own.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from .segment_plan import FrameRange


@dataclass(frozen=True)
class Piece:
    frames: FrameRange
    copied: bool


def plan_pieces(keep_ranges: Sequence[FrameRange], idr_frames: Sequence[int], frame_count: int) -> tuple[Piece, ...]:
    """The whole video [0, frame_count) as alternating encoded and copied pieces, in order.

    `idr_frames`: display indices of the source's IDR pictures, sorted."""
    copied = [span for keep in keep_ranges if (span := _copyable(keep, idr_frames, frame_count)) is not None]
    pieces: list[Piece] = []
    cursor = 0
    for span in copied:
        if span.start > cursor:
            pieces.append(Piece(FrameRange(cursor, span.start), copied=False))
        pieces.append(Piece(span, copied=True))
        cursor = span.end
    if cursor < frame_count:
        pieces.append(Piece(FrameRange(cursor, frame_count), copied=False))
    return tuple(pieces)


def _copyable(keep: FrameRange, idr_frames: Sequence[int], frame_count: int) -> FrameRange | None:
    first = bisect_left(idr_frames, keep.start)
    if first == len(idr_frames) or idr_frames[first] >= keep.end:
        return None
    start = idr_frames[first]
    if keep.end == frame_count:
        end = frame_count  # the last GOP ends with the video
    else:
        end = idr_frames[bisect_right(idr_frames, keep.end) - 1]  # the last IDR at or before the cut
    return FrameRange(start, end) if end > start else None


def encoded_frames(pieces: Sequence[Piece]) -> int:
    return sum(piece.frames.length for piece in pieces if not piece.copied)
