"""Which frames of the final video can be the source's own compressed pictures, and which must be encoded.

A stretch of untouched frames can be copied packet for packet when it starts on an IDR picture (nothing after
it refers to a picture before it) and ends on a closed boundary: a point in the stream where the pictures
decoded so far are exactly the ones shown so far. Every IDR picture is such a boundary, and so is the end of
each group of B-frames, since a picture only refers to pictures decoded before it. So a copy may stop in the
middle of a GOP, right before a cut, where the encoded run that follows starts with an IDR picture of its own.
Everything else (the swapped frames, and the untouched frames between a cut and the next IDR or before a cut
back to the last closed boundary) is encoded, in as few runs as possible.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ..segment_plan import FrameRange


@dataclass(frozen=True)
class Piece:
    frames: FrameRange
    copied: bool


def closed_boundaries(display_indices: Sequence[int]) -> tuple[int, ...]:
    """Every display index m where the pictures before m are exactly the first m pictures in decode order.

    `display_indices`: each picture's display index, in decode order (a permutation of 0..n-1)."""
    boundaries, shown_so_far = [], -1
    for decoded, shown in enumerate(display_indices):
        shown_so_far = max(shown_so_far, shown)
        if shown_so_far == decoded:
            boundaries.append(decoded + 1)
    return tuple(boundaries)


def plan_pieces(keep_ranges: Sequence[FrameRange], idr_frames: Sequence[int], boundaries: Sequence[int],
                frame_count: int) -> tuple[Piece, ...]:
    """The whole video [0, frame_count) as alternating encoded and copied pieces, in order.

    `idr_frames`: display indices of the source's IDR pictures, sorted; `boundaries`: its closed boundaries,
    sorted (from `closed_boundaries`)."""
    copied = [span for keep in keep_ranges if (span := _copyable(keep, idr_frames, boundaries)) is not None]
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


def _copyable(keep: FrameRange, idr_frames: Sequence[int], boundaries: Sequence[int]) -> FrameRange | None:
    first = bisect_left(idr_frames, keep.start)
    if first == len(idr_frames) or idr_frames[first] >= keep.end:
        return None
    start = idr_frames[first]
    last = bisect_right(boundaries, keep.end) - 1  # the last closed boundary at or before the cut
    end = boundaries[last] if last >= 0 else start
    return FrameRange(start, end) if end > start else None


def encoded_frames(pieces: Sequence[Piece]) -> int:
    return sum(piece.frames.length for piece in pieces if not piece.copied)
