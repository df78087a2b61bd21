"""How hard the final encode may spend bits: the source's own quality, never a fixed one that balloons the file.

A fixed crf 18 is near transparent, but a phone or an editor exports at whatever rate it chose, often far less
than crf 18 spends on the same picture: a re-encoded 34 s portrait came out twice the size of its source. The
encode keeps crf 18 wherever that fits, and is held by a rate cap (x264's VBV) to a little more than the
source's own rate where it would not: a re-encode of a picture can't show more than the source held, and the
headroom pays for the generation of loss a re-encode adds.
"""

from __future__ import annotations

from dataclasses import replace

from .video_probe import VideoInfo
from .video_stream import FINAL_ENCODE, EncodeSettings

# Cap over the source's video bit rate; the output's total (with the copied audio) stays within 1.3x the source.
RATE_HEADROOM = 1.2
# The rate buffer, in seconds of the cap: long enough that one busy second borrows from quiet ones.
_BUFFER_S = 2.0


def final_encode_for(source: VideoInfo) -> EncodeSettings:
    """The final encode's settings for a video made from `source` (crf 18, capped at its rate when known)."""
    if not source.video_bitrate:
        return FINAL_ENCODE
    cap = round(source.video_bitrate * RATE_HEADROOM)
    return replace(FINAL_ENCODE, max_bitrate=cap, buffer_bits=round(cap * _BUFFER_S))
