"""Finding the invisible watermark in a video that may have been re-encoded, scaled, cropped or trimmed since.

The video is decoded once into 64 × 64 grey thumbnails (the pattern's cells are ~4 thumbnail pixels: any scaling
the video went through is undone by this one). Frame-to-frame differences are matched against each cell's bump
(under a few centre-crop guesses), then correlated in time with the flip sequence at every possible segment start,
before or after the video's first frame (a trimmed start), in one FFT.

Whether a mark is there is judged without knowing the payload or how noisy the picture is: the cells of one bit
agree in sign when marked and not otherwise. `coherence` is the sum over bits of |Σ cells| over the sum of
sqrt(Σ cells²): ~0.8-1.0 on unmarked pictures, ~2.3 when every cell of every bit agrees. How far it stands above
the same figure for decoy groupings of the same cells is the confidence: a segment counts when that reaches
FOUND_CONFIDENCE and the payload's CRC-16 holds.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import VideoProcessingError
from .video_probe import probe_video
from .video_stream import ffmpeg_executable, fps_arg, stderr_tail
from .watermark_pattern import CODE_BITS, GRID, WINDOW_S, cell_layout, cell_weights, flip_steps, payload_hex, \
    read_codeword

THUMB = 64
CROPS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2)  # centre-crop guesses (share of each side cut in all)
CANDIDATE_COHERENCE = 1.2  # starts worth a closer look (unmarked pictures sit near 0.8-1.0)
# A mark's coherence stands this many decoy deviations clear (unmarked clips' highest: docs/provenance.md).
FOUND_CONFIDENCE = 6.0
_DECOYS = 64
_DECOY_SEED = 20260802
MIN_OVERLAP_S = 2.5  # of a segment's first 5 s that must be in the video (a trimmed start may take the rest)
_ECHO = 0.6  # a find within a window of a stronger one and under this share of its strength is its echo
_CUT_ENERGY = 4.0  # a frame change this many times the median (a cut, a flash) is scaled down to it


@dataclass(frozen=True)
class FoundMark:
    start_s: float  # where the marked segment starts in this video (negative: it began before the first frame)
    confidence: float  # decoy deviations above chance (found from FOUND_CONFIDENCE)
    payload: str | None  # 8 hex digits; None when the mark is there but its CRC does not hold
    crop: float  # the centre-crop guess it was found under
    strength: float = 0.0  # agreement of the bits in noise units: how much of the mark is there

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 2), "payload": self.payload,
                "confidence": round(self.confidence, 1), "crop": self.crop}


@dataclass(frozen=True)
class MarkSearch:
    marks: list[FoundMark]  # every marked segment found, in time order
    best_confidence: float  # the highest confidence seen anywhere, found or not (how close an unmarked video came)


def find_marks(path: Path | str) -> MarkSearch:
    """Look for the mark at every start and crop guess."""
    info = probe_video(path)
    fps = float(info.fps)
    thumbs = _thumbnails(str(path), info.fps)
    if len(thumbs) < 3:
        return MarkSearch([], 0.0)
    window = min(len(thumbs), int(round(WINDOW_S * fps)))
    changes = _weighted_changes(thumbs)
    steps = flip_steps(fps, window)
    overlap = min(len(thumbs) // 2, int(round(MIN_OVERLAP_S * fps)))
    judged = slice(overlap - 1, len(thumbs) - overlap + window)  # starts whose window sees enough of the video
    found: list[FoundMark] = []
    best = 0.0
    for crop in CROPS:
        by_start = _correlate(changes @ _weights(crop), steps)  # (starts, cells); index 0 = frame -(window - 1)
        # Each cell in units of its own noise (its spread over all starts, nearly all of them unmarked): a cell
        # on a moving face counts for less than one on a still wall.
        noise = 1.4826 * np.median(np.abs(by_start), axis=0)
        noise = np.maximum(noise, 0.5 * float(np.median(noise))) + 1e-6  # a dead-still cell is not infinitely sure
        scores = by_start / noise
        coherence, agreeing = _coherence(scores, _bit_matrix())
        coherence[:judged.start] = 0.0
        coherence[judged.stop:] = 0.0
        bits = (scores / noise) @ _bit_matrix()  # weighted by 1 / noise², as a receiver combines noisy copies
        strength = np.abs(agreeing).sum(axis=1)
        for start in _peaks(coherence >= CANDIDATE_COHERENCE, strength, window):
            confidence = _confidence(scores[start], float(coherence[start]))
            best = max(best, confidence)
            payload = read_codeword(bits[start]) if confidence >= FOUND_CONFIDENCE else None
            if payload is not None:
                found.append(FoundMark((start - (window - 1)) / fps, confidence, payload_hex(payload), crop,
                                       float(strength[start])))
    return MarkSearch(_merge(found, WINDOW_S, fps), best)


def _coherence(scores: np.ndarray, bit_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coherence per start, the bits' sums per start) for cells grouped and signed by `bit_matrix`."""
    agreeing = scores @ bit_matrix
    spread = np.sqrt(np.maximum((scores ** 2) @ np.abs(bit_matrix), 1e-12))
    return np.abs(agreeing).sum(axis=-1) / spread.sum(axis=-1), agreeing


def _confidence(scores: np.ndarray, coherence: float) -> float:
    """How far the mark's coherence stands above that of decoy layouts (the same cells under other scramblings)
    at the same start, in their standard deviations. The decoys see the same picture, so however few cells move
    or however they move together, an unmarked picture scores like them."""
    decoys = np.array([_coherence(scores, matrix)[0] for matrix in _decoy_matrices()])
    return float((coherence - decoys.mean()) / (decoys.std() + 1e-6))


def _thumbnails(path: str, fps) -> np.ndarray:
    command = [ffmpeg_executable(), "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
               "-vf", f"fps={fps_arg(fps)},scale={THUMB}:{THUMB}:flags=area,format=gray",
               "-f", "rawvideo", "pipe:1"]
    with tempfile.TemporaryFile() as stderr:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr)
        if result.returncode != 0:
            raise VideoProcessingError(f"cannot decode the video to look for the watermark: {stderr_tail(stderr)}")
    count = len(result.stdout) // (THUMB * THUMB)
    return np.frombuffer(result.stdout, np.uint8)[:count * THUMB * THUMB].reshape(count, THUMB * THUMB)


def _weighted_changes(thumbs: np.ndarray) -> np.ndarray:
    """(frames, pixels) change from the frame before (none for the first), cuts and flashes scaled down so one
    violent change cannot outweigh the seconds of mark around it."""
    changes = np.zeros(thumbs.shape, np.float32)
    changes[1:] = np.diff(thumbs.astype(np.float32), axis=0)
    energy = (changes ** 2).mean(axis=1)
    typical = float(np.median(energy[1:])) + 1e-3
    scale = np.sqrt(np.minimum(1.0, _CUT_ENERGY * typical / np.maximum(energy, 1e-9)))
    return changes * scale[:, None].astype(np.float32)


@lru_cache(maxsize=len(CROPS))
def _weights(crop: float) -> np.ndarray:
    return cell_weights(THUMB, crop)


@lru_cache(maxsize=1)
def _bit_matrix() -> np.ndarray:
    """(cells, bits): the scrambling sign of each cell in its bit's column."""
    bit_of_cell, scramble = cell_layout()
    return _layout_matrix(bit_of_cell, scramble)


@lru_cache(maxsize=1)
def _decoy_matrices() -> tuple[np.ndarray, ...]:
    bit_of_cell, _ = cell_layout()
    rng = np.random.default_rng(_DECOY_SEED)
    return tuple(_layout_matrix(bit_of_cell, rng.choice(np.array([-1.0, 1.0], np.float32), bit_of_cell.shape))
                 for _ in range(_DECOYS))


def _layout_matrix(bit_of_cell: np.ndarray, scramble: np.ndarray) -> np.ndarray:
    matrix = np.zeros((GRID * GRID, CODE_BITS), np.float32)
    matrix[np.arange(GRID * GRID), bit_of_cell.ravel()] = scramble.ravel()
    return matrix


def _correlate(cells: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(frames + window - 1, cells): for each segment start s from -(window - 1) to frames - 1, the sum over the
    window of steps[j] * cells[s + j] (frames outside the video count as zero)."""
    frames, window = len(cells), len(steps)
    size = 1 << int(np.ceil(np.log2(frames + window)))
    spectrum = np.fft.rfft(cells, size, axis=0) * np.conj(np.fft.rfft(steps, size))[:, None]
    circular = np.fft.irfft(spectrum, size, axis=0)
    # circular[k] = sum_j steps[j] * cells[k + j]; negative starts wrap to the end of the buffer.
    return np.concatenate([circular[size - (window - 1):], circular[:frames]]).astype(np.float32)


def _peaks(present: np.ndarray, strength: np.ndarray, window: int) -> list[int]:
    """Where a mark is present, the starts where it is strongest within half a window either side: coherence
    says whether the mark is there (a start a little off still sees some of it), strength says where it begins."""
    peaks = []
    half = max(1, window // 2)
    for start in np.flatnonzero(present):
        low, high = max(0, start - half), min(len(strength), start + half + 1)
        if strength[start] >= strength[low:high][present[low:high]].max():
            peaks.append(int(start))
    return peaks


def _merge(found: list[FoundMark], window_s: float, fps: float) -> list[FoundMark]:
    """One mark per segment: finds at the same start under other crop guesses, and the echoes a mark makes where
    the flip sequence partly matches itself at another start (within a window, much weaker), fold into the
    strongest."""
    kept: list[FoundMark] = []
    for mark in sorted(found, key=lambda m: -m.strength):
        if all(abs(mark.start_s - other.start_s) > max(window_s * (mark.strength <= _ECHO * other.strength), 2 / fps)
               for other in kept):
            kept.append(mark)
    return sorted(kept, key=lambda m: m.start_s)
