"""What the invisible watermark is made of, shared by the marker (watermark.py) and the finder (watermark_find.py).

A per-frame mark dies in an ordinary re-encode (docs/provenance.md), so this one is spread over a whole swapped
segment, in what compression and scaling keep:
- space: a 16 × 16 grid of smooth bumps over the frame (normalized coordinates, so any size or aspect), each bump
  a sine hump that is zero at its cell's border: nothing sharper than a cell, ~67 px at 1080p, ~22 px at 360p.
  Each cell's sign is one chip of the 48-bit codeword (32 payload bits + a CRC-16), spread over 5-6 cells;
- time: the whole pattern flips sign in 0.2 s blocks, following a fixed pseudo-random sequence that starts with the
  segment. The finder correlates frame-to-frame differences with the same flips: whatever the picture does on its
  own (a still shot, a pan, a face talking) does not follow that sequence and averages out, and the flips are what
  x264 keeps, even in still backgrounds (it codes a change it cannot predict).
The key below is public on purpose: anyone can check a video for the mark (EU AI Act Art. 50(2) asks for marks
that are detectable); it does not stop a forger, which is the C2PA signature's job.
"""

from __future__ import annotations

import hashlib
from itertools import combinations
from functools import lru_cache

import numpy as np

GRID = 16
BLOCK_S = 0.2  # seconds per sign of the flip sequence
WINDOW_S = 5.0  # how much of a segment the finder correlates (a segment's first 5 s)
PAYLOAD_BITS = 32
CHECK_BITS = 16
CODE_BITS = PAYLOAD_BITS + CHECK_BITS
_KEY = 0x5EED_C0DE  # seeds the cell order, the cell scrambling and the flip sequence
_SEQUENCE_BLOCKS = 4096  # flip signs before the sequence repeats (819 s)
# The flip sequence's changes must not look like themselves at another start, or a segment echoes where it is
# not. Of 1,500 seeds this one's worst echo over a 5 s window, at 25 and 30 fps, against starts up to 10 s later
# or 2.5 s earlier, is 31 % of the true start's (a typical seed: 45-70 %).
_FLIP_SEED = 517


def payload_for(text: str) -> int:
    """The 32-bit payload a job's mark carries: a hash of what identifies it (record and job id)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def payload_hex(payload: int) -> str:
    return f"{payload:08x}"


def _crc16(value: int) -> int:
    """CRC-16/CCITT-FALSE of the payload's four bytes."""
    crc = 0xFFFF
    for byte in value.to_bytes(4, "big"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def codeword(payload: int) -> np.ndarray:
    """The payload and its CRC as 48 signs (+1 for a one bit), most significant first."""
    word = (payload << CHECK_BITS) | _crc16(payload)
    return np.array([1.0 if word >> (CODE_BITS - 1 - i) & 1 else -1.0 for i in range(CODE_BITS)], np.float32)


def read_codeword(soft_bits: np.ndarray, among_weakest: int = 6) -> int | None:
    """The payload from 48 soft bit values (sign = bit), or None when no reading holds its CRC. Besides the plain
    reading, one or two of the `among_weakest` least certain bits may be wrong (22 readings in all, so a random
    picture passes the CRC once in ~3,000 tries; the finder only reads where the mark's coherence is clear)."""
    hard = [int(value > 0) for value in soft_bits]
    weakest = [int(i) for i in np.argsort(np.abs(soft_bits))[:among_weakest]]
    flips = [()] + [(i,) for i in weakest] + list(combinations(weakest, 2))
    for flipped in flips:
        word = 0
        for index, bit in enumerate(hard):
            word = (word << 1) | (bit ^ (index in flipped))
        payload, check = word >> CHECK_BITS, word & 0xFFFF
        if _crc16(payload) == check:
            return payload
    return None


@lru_cache(maxsize=1)
def cell_layout() -> tuple[np.ndarray, np.ndarray]:
    """(bit index of each cell, scrambling sign of each cell), both (GRID, GRID): a bit's cells are scattered over
    the frame, so a crop or a busy corner takes a little from every bit rather than all of a few."""
    rng = np.random.default_rng(_KEY)
    order = rng.permutation(GRID * GRID)
    bit_of_cell = (order % CODE_BITS).reshape(GRID, GRID)
    scramble = rng.choice(np.array([-1.0, 1.0], np.float32), GRID * GRID).reshape(GRID, GRID)
    return bit_of_cell, scramble


def cell_chips(payload: int) -> np.ndarray:
    """(GRID, GRID) signs of the bumps for one payload."""
    bit_of_cell, scramble = cell_layout()
    return codeword(payload)[bit_of_cell] * scramble


@lru_cache(maxsize=1)
def _flip_sequence() -> np.ndarray:
    return np.random.default_rng(_FLIP_SEED).choice(np.array([-1.0, 1.0], np.float32), _SEQUENCE_BLOCKS)


def flip_sign(seconds_into_segment: float) -> float:
    """The pattern's sign at a moment of a segment."""
    return float(_flip_sequence()[int(seconds_into_segment / BLOCK_S + 1e-6) % _SEQUENCE_BLOCKS])


def flip_steps(fps: float, frames: int) -> np.ndarray:
    """(frames,) change of the sign from the frame before to each frame of a segment's first `frames` frames;
    the first entry is the step from no mark to the first sign."""
    signs = np.array([flip_sign(i / fps) for i in range(frames)], np.float32)
    return np.diff(signs, prepend=np.float32(0.0))


def bump_image(width: int, height: int, chips: np.ndarray, crop: float = 0.0) -> np.ndarray:
    """(height, width) float32 pattern in [-1, 1] sampled at pixel centres, for a picture showing the centre
    (1 - crop) of the marked frame in each direction (crop 0: the whole frame)."""
    grid = chips.shape[0]

    def axis(n: int) -> tuple[np.ndarray, np.ndarray]:
        position = (crop / 2 + (np.arange(n) + 0.5) / n * (1 - crop)) * grid
        cell = np.clip(position.astype(np.int64), 0, grid - 1)
        return cell, np.sin(np.pi * np.clip(position - cell, 0.0, 1.0)).astype(np.float32)

    cx, bx = axis(width)
    cy, by = axis(height)
    return (chips[cy][:, cx] * by[:, None] * bx[None, :]).astype(np.float32)


def cell_weights(size: int, crop: float) -> np.ndarray:
    """(size * size, GRID * GRID) float32: for a `size`² thumbnail of a picture cropped by `crop`, each pixel's
    bump weight in the cell it falls in. Thumbnail @ weights gives every cell's correlation at once."""
    weights = np.zeros((size * size, GRID * GRID), np.float32)
    for cell in range(GRID * GRID):
        chips = np.zeros((GRID, GRID), np.float32)
        chips.flat[cell] = 1.0
        weights[:, cell] = bump_image(size, size, chips, crop).ravel()
    return weights
