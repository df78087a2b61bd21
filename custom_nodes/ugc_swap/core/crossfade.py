"""Edge weights that fade a swap in and out at the boundaries of a swap segment, so the cut is invisible."""

from __future__ import annotations


def edge_weight(index_in_segment: int, segment_length: int, fade_frames: int) -> float:
    """Weight of the swapped face for one frame: rises over the first `fade_frames`, falls over the last ones.

    It never reaches 0 inside the segment (the untouched neighbour frame is the 0), and it is 1 in the middle.
    """
    if fade_frames <= 0:
        return 1.0
    rise = (index_in_segment + 1) / (fade_frames + 1)
    fall = (segment_length - index_in_segment) / (fade_frames + 1)
    return max(0.0, min(1.0, rise, fall))
