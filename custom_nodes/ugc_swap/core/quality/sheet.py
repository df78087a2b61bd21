"""The before/after sheet of a finished swap: per sampled frame, the whole frame and the face zoomed, before and
after, with the identity figures of that frame.

Artists and Make.com users judge a swap faster by looking than by reading numbers, and a face a few dozen pixels
wide in a whole frame cannot be judged at all: hence the zoomed crops beside each frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from .samples import QualitySample

ROW_PX = 200  # height of each tile
_GAP = 4
_CAPTION_PX = 22
_WHITE = 255


def _tile(rgb: np.ndarray | None, width: int | None = None) -> np.ndarray:
    """`rgb` scaled to ROW_PX tall (grey when there is nothing to show), `width` wide if given."""
    if rgb is None:
        return np.full((ROW_PX, width or ROW_PX, 3), 128, np.uint8)
    scale = ROW_PX / rgb.shape[0]
    size = (width or max(1, round(rgb.shape[1] * scale)), ROW_PX)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _caption(text: str, width: int) -> np.ndarray:
    strip = np.full((_CAPTION_PX, width, 3), _WHITE, np.uint8)
    cv2.putText(strip, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.48, (20, 20, 20), 1, cv2.LINE_AA)
    return strip


def _hstack(tiles: list[np.ndarray]) -> np.ndarray:
    spaced = [np.pad(t, ((0, 0), (0, _GAP), (0, 0)), constant_values=_WHITE) for t in tiles]
    return np.hstack(spaced)[:, :-_GAP]


def quality_sheet(samples: list[QualitySample], captions: list[str] | None = None) -> np.ndarray:
    """One RGB image, a row per sample: before (frame, face), after (frame, face), a caption above each row."""
    if not samples:
        raise ValueError("no samples to show")
    frame_width = max(1, round(samples[0].source.shape[1] * ROW_PX / samples[0].source.shape[0]))
    rows = []
    header = _hstack([_caption("before", frame_width), _caption("face before", ROW_PX),
                      _caption("after", frame_width), _caption("face after", ROW_PX)])
    rows.append(header)
    for number, sample in enumerate(samples):
        tiles = [_tile(sample.source, frame_width), _tile(sample.source_face),
                 _tile(sample.result, frame_width), _tile(sample.result_face)]
        row = _hstack(tiles)
        text = captions[number] if captions else f"frame {sample.frame}"
        rows.append(np.vstack([_caption(text, row.shape[1]), row]))
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, _GAP), (0, width - r.shape[1]), (0, 0)), constant_values=_WHITE) for r in rows]
    return np.vstack(padded)[:-_GAP]
