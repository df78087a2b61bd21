"""Phone-style HDR clips with pixels of known value: colour patches (and optionally a face) given as HLG or PQ
signal values in BT.2020, encoded as HEVC Main10 the way an iPhone tags it (or 4:2:2 / 4:4:4 like a camera)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ugc_swap.core.video.video_stream import ffmpeg_executable

# Signal values R'G'B' (0..1): greys, skin tones of several depths, saturated colours, a highlight.
PATCHES = np.array([
    [0.10, 0.10, 0.10], [0.30, 0.30, 0.30], [0.50, 0.50, 0.50], [0.70, 0.70, 0.70], [0.85, 0.85, 0.85],
    [0.62, 0.50, 0.44], [0.52, 0.40, 0.34], [0.40, 0.29, 0.24], [0.30, 0.21, 0.17], [0.66, 0.56, 0.50],
    [0.55, 0.20, 0.18], [0.22, 0.48, 0.24], [0.20, 0.26, 0.55], [0.60, 0.55, 0.15], [0.95, 0.93, 0.90],
])
PATCH_PX = 48
_TRANSFER_TAG = {"hlg": "arib-std-b67", "pq": "smpte2084"}
_CHROMA = {"420": "yuv420p10le", "422": "yuv422p10le", "444": "yuv444p10le"}


def patch_frame(face_signal: np.ndarray | None = None, columns: int = 5) -> np.ndarray:
    """The patches in a grid (one patch size of margin), and beside them `face_signal` (a signal image) if given."""
    rows = -(-len(PATCHES) // columns)
    height = (2 * rows + 1) * PATCH_PX
    grid = np.full((height, (2 * columns + 1) * PATCH_PX, 3), 0.25)
    for number, colour in enumerate(PATCHES):
        row, column = divmod(number, columns)
        y, x = (2 * row + 1) * PATCH_PX, (2 * column + 1) * PATCH_PX
        grid[y:y + PATCH_PX, x:x + PATCH_PX] = colour
    if face_signal is None:
        return grid
    face = cv2.resize(face_signal, (round(face_signal.shape[1] * height / face_signal.shape[0]), height))
    return np.hstack([grid, face])


def patch_centres(columns: int = 5) -> list[tuple[int, int]]:
    return [((2 * (n // columns) + 1) * PATCH_PX + PATCH_PX // 2, (2 * (n % columns) + 1) * PATCH_PX + PATCH_PX // 2)
            for n in range(len(PATCHES))]


def write_hdr_clip(path: Path, signal: np.ndarray, transfer: str, chroma: str = "420", seconds: float = 1.0,
                   fps: Fraction = Fraction(30)) -> Path:
    """`signal` (H, W, 3 floats, BT.2020 R'G'B') as a still HEVC Main10 clip tagged like a phone's."""
    height, width = signal.shape[:2]
    height, width = height - height % 2, width - width % 2
    rgb = np.clip(signal[:height, :width], 0.0, 1.0)
    luma = rgb @ np.array([0.2627, 0.6780, 0.0593])
    cb, cr = (rgb[..., 2] - luma) / 1.8814, (rgb[..., 0] - luma) / 1.4746
    planes = [np.round(64 + 876 * luma), np.round(512 + 896 * cb), np.round(512 + 896 * cr)]
    raw = np.concatenate([p.astype("<u2").ravel() for p in planes]).tobytes()
    frames = round(seconds * fps)
    command = [
        ffmpeg_executable(), "-nostdin", "-v", "error", "-y",
        # The raw planes are tagged as what they are: an untagged input would be converted from BT.601.
        "-f", "rawvideo", "-pix_fmt", "yuv444p10le", "-s", f"{width}x{height}", "-r", str(fps),
        "-colorspace", "bt2020nc", "-color_range", "tv", "-i", "pipe:0",
        # The colour tags go into the HEVC VUI, where phones write them (ffmpeg's own flags reach only part of it).
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
        f"log-level=error:lossless=1:colorprim=bt2020:transfer={_TRANSFER_TAG[transfer]}:colormatrix=bt2020nc",
        "-pix_fmt", _CHROMA[chroma], "-color_primaries", "bt2020", "-color_trc", _TRANSFER_TAG[transfer],
        "-colorspace", "bt2020nc", "-color_range", "tv", "-tag:v", "hvc1", str(path),
    ]  # fmt: skip
    subprocess.run(command, input=raw * frames, check=True, timeout=300)
    return path


def signal_from_sdr_photo(rgb: np.ndarray, transfer: str) -> np.ndarray:
    """An sRGB photo as the HDR signal a phone would record of it: SDR white at the HDR reference white."""
    from ugc_swap.core.video.hdr import REFERENCE_WHITE_NITS, nits_to_pq

    linear709 = np.power(rgb.astype(np.float64) / 255.0, 2.4)
    linear2020 = linear709 @ np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114],
                                       [0.0164, 0.0880, 0.8956]]).T
    nits = linear2020 * REFERENCE_WHITE_NITS
    if transfer == "pq":
        return nits_to_pq(nits)
    # HLG: the inverse of its OOTF (1000 cd/m2, gamma 1.2) and OETF, enough for a test picture.
    luma = np.maximum((nits / 1000.0) @ np.array([0.2627, 0.6780, 0.0593]), 1e-12)[..., None]
    scene = (nits / 1000.0) * np.power(luma, (1 / 1.2) - 1)
    a, b = 0.17883277, 1 - 4 * 0.17883277
    c = 0.5 - a * np.log(4 * a)
    return np.where(scene <= 1 / 12, np.sqrt(3 * np.clip(scene, 0, None)),
                    a * np.log(np.maximum(12 * scene - b, 1e-12)) + c)
