"""HDR phone footage (HLG or PQ, BT.2020 primaries) brought to SDR BT.709 as it looked, before anything reads it.

Why SDR out rather than HDR kept: the avatar photo, the swap's colour and light matching and the whole delivery
(H.264 that plays in every browser, app and Make.com preview) are SDR; keeping HDR would mean converting the
customer's SDR photo into HLG or PQ with a guessed brightness, and shipping HEVC Main10 many players show wrongly.

The operator, per pixel, from the decoded signal R'G'B' (BT.2020 primaries):
1. to display light in cd/m2: PQ by its EOTF (SMPTE ST 2084); HLG by its inverse OETF and the BT.2100 OOTF for
   a 1000 cd/m2 display (system gamma 1.2);
2. BT.2020 -> BT.709 primaries (linear matrix);
3. luminance tone-mapped by the BT.2390 EETF (a Hermite roll-off in PQ space) from a 1000 cd/m2 source peak to the
   HDR reference white of BT.2408 (203 cd/m2) as SDR peak; colours scaled with their luminance so hues hold, and
   anything still outside BT.709 brought in by desaturating towards its own grey;
4. 203 cd/m2 = SDR 100 %; encoded for a BT.1886 (gamma 2.4) display.

Everything below about 100 cd/m2 (skin, mid-tones) passes unchanged but for the primaries. ffmpeg applies the
operator as a 65-point 3-D LUT (`lut3d`) right after decoding, in every reader of the source, so the engine and
the stitch see the same SDR frames; `sdr_from_hdr` is the same operator on arrays (the LUT is made from it).
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

Transfer = Literal["pq", "hlg"]

REFERENCE_WHITE_NITS = 203.0  # BT.2408: HDR reference (graphics) white, shown as SDR 100 %
SOURCE_PEAK_NITS = 1000.0  # what phones master HLG and PQ for; the EETF rolls highlights off from here
LUT_SIZE = 65

_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * np.log(4 * _HLG_A)
_BT2020_TO_BT709 = np.array([[1.6605, -0.5876, -0.0728],
                             [-0.1246, 1.1329, -0.0083],
                             [-0.0182, -0.1006, 1.1187]])
_LUMA_2020 = np.array([0.2627, 0.6780, 0.0593])
_LUMA_709 = np.array([0.2126, 0.7152, 0.0722])


def pq_to_nits(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 EOTF."""
    p = np.power(np.clip(signal, 0.0, 1.0), 1 / _M2)
    return 10000.0 * np.power(np.maximum(p - _C1, 0.0) / (_C2 - _C3 * p), 1 / _M1)


def nits_to_pq(nits: np.ndarray) -> np.ndarray:
    y = np.power(np.clip(nits / 10000.0, 0.0, 1.0), _M1)
    return np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


def hlg_to_nits(rgb_signal: np.ndarray, peak: float = SOURCE_PEAK_NITS) -> np.ndarray:
    """BT.2100 HLG: inverse OETF to scene light, then the OOTF of a display of `peak` cd/m2 (black at 0)."""
    e = np.clip(rgb_signal, 0.0, 1.0)
    scene = np.where(e <= 0.5, e * e / 3.0, (np.exp((e - _HLG_C) / _HLG_A) + _HLG_B) / 12.0)
    gamma = 1.2 + 0.42 * np.log10(peak / 1000.0)
    luma = np.maximum(scene @ _LUMA_2020, 1e-12)[..., None]
    return peak * np.power(luma, gamma - 1.0) * scene


def _eetf(nits: np.ndarray, source_peak: float, target_peak: float) -> np.ndarray:
    """BT.2390 EETF on luminance in cd/m2 (black levels at 0)."""
    top = nits_to_pq(np.asarray(source_peak))
    e1 = nits_to_pq(nits) / top
    max_lum = nits_to_pq(np.asarray(target_peak)) / top
    knee = 1.5 * max_lum - 0.5
    t = np.clip((e1 - knee) / (1 - knee), 0.0, 1.0)
    spline = (2 * t**3 - 3 * t**2 + 1) * knee + (t**3 - 2 * t**2 + t) * (1 - knee) + (-2 * t**3 + 3 * t**2) * max_lum
    e2 = np.where(e1 < knee, e1, np.where(e1 <= 1.0, spline, max_lum))
    return pq_to_nits(e2 * top)


def sdr_from_hdr(rgb_signal: np.ndarray, transfer: Transfer) -> np.ndarray:
    """R'G'B' signal (BT.2020, 0..1, any shape ending in 3) -> SDR BT.709 R'G'B' for a BT.1886 display (0..1)."""
    signal = np.asarray(rgb_signal, np.float64)
    nits = pq_to_nits(signal) if transfer == "pq" else hlg_to_nits(signal)
    linear = nits @ _BT2020_TO_BT709.T
    luma = np.maximum(linear @ _LUMA_709, 0.0)
    mapped = _eetf(luma, SOURCE_PEAK_NITS, REFERENCE_WHITE_NITS)
    ratio = np.where(luma > 1e-9, mapped / np.maximum(luma, 1e-9), 0.0)[..., None]
    relative = linear * ratio / REFERENCE_WHITE_NITS
    grey = (mapped / REFERENCE_WHITE_NITS)[..., None]
    # Out of BT.709 (a channel below 0 or above 1): the least desaturation towards its own grey that fits.
    low = np.where(relative < 0, grey / np.maximum(grey - relative, 1e-12), 1.0).min(axis=-1, keepdims=True)
    high = np.where(relative > 1, (1 - grey) / np.maximum(relative - grey, 1e-12), 1.0).min(axis=-1, keepdims=True)
    keep = np.clip(np.minimum(low, high), 0.0, 1.0)
    fitted = np.clip(grey + (relative - grey) * keep, 0.0, 1.0)
    return np.power(fitted, 1 / 2.4)


@lru_cache(maxsize=2)
def lut_file(transfer: Transfer) -> Path:
    """The operator as a .cube 3-D LUT for ffmpeg's lut3d (written once per process)."""
    grid = np.linspace(0.0, 1.0, LUT_SIZE)
    # .cube order: red changes fastest, then green, then blue.
    b, g, r = np.meshgrid(grid, grid, grid, indexing="ij")
    table = sdr_from_hdr(np.stack([r, g, b], axis=-1).reshape(-1, 3), transfer)
    folder = Path(tempfile.mkdtemp(prefix="ugc_swap_hdr_"))
    path = folder / f"{transfer}_to_sdr.cube"
    lines = [f"TITLE \"{transfer} BT.2020 to SDR BT.709 (BT.2390 EETF, 203 cd/m2 white)\"", f"LUT_3D_SIZE {LUT_SIZE}"]
    lines += [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in table]
    path.write_text("\n".join(lines) + "\n")
    return path


def decode_filters(transfer: Transfer, full_range: bool) -> str:
    """ffmpeg filters that turn decoded HDR YUV into SDR BT.709 RGB (48-bit, for what follows to convert)."""
    in_range = "pc" if full_range else "tv"
    return (f"scale=in_color_matrix=bt2020:in_range={in_range}:out_range=pc,format=gbrp16le,"
            f"lut3d=file={lut_file(transfer)}:interp=tetrahedral")
