"""`python bench/avatar_gate.py` — where the avatar gate's lines come from: swaps made from degraded avatar photos.

Each tuning avatar is shrunk (to a given distance between the outer eye corners) or blurred, swapped onto a filmed
face, and judged for identity (tests/pair_quality.py); the gate's own figures of the degraded photo are printed
beside. A line is where identity collapses (refuse) or starts to slip (warn). Writes docs/avatar_gate.md.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

from tests.pair_quality import Pair, clip_frames, photo, swap_frames  # noqa: E402
from tests.talking_portrait import portrait_around_face  # noqa: E402
from ugc_swap.core.engines import SwapSettings  # noqa: E402
from ugc_swap.core.errors import UgcSwapError  # noqa: E402
from ugc_swap.core.faces.avatar_quality import LINES, Line, measure_avatar  # noqa: E402
from ugc_swap.core.faces.main_face import avatar_face_points  # noqa: E402
from ugc_swap.core.quality.identity import face_embedding, identity_distance  # noqa: E402

PAIRS = [Pair("dave", "asian_man_young"), Pair("obama_3", "biden"), Pair("rihanna", "queen_elizabeth")]
EYE_PX = (None, 80, 60, 45, 36, 28)
BLUR = (1.0, 2.0, 3.0, 4.5)


def _shrunk(rgb: np.ndarray, eye_px: float) -> np.ndarray:
    points = avatar_face_points(rgb, 0.5)
    now = float(np.linalg.norm(points[33, :2] - points[263, :2]))
    scale = min(1.0, eye_px / now)
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _blurred(rgb: np.ndarray, sigma_at_64: float) -> np.ndarray:
    """Blur by `sigma_at_64` px at the scale where the eye corners are 64 px apart."""
    points = avatar_face_points(rgb, 0.5)
    eye = float(np.linalg.norm(points[33, :2] - points[263, :2]))
    return cv2.GaussianBlur(rgb, (0, 0), sigma_at_64 * eye / 64.0)


@contextmanager
def _gate_open():
    """The gate's lines moved out of the way, so a photo it would refuse is swapped and measured all the same."""
    saved = dict(LINES)
    LINES.update({name: Line(-1e9, -1e9, True) if line.higher_is_better else Line(1e9, 1e9, False)
                  for name, line in saved.items()})
    try:
        yield
    finally:
        LINES.update(saved)


def _identity(pair: Pair, avatar: np.ndarray) -> tuple[float, float]:
    source = clip_frames(pair.filmed, pair.resolution)
    result = swap_frames(source, avatar, SwapSettings())
    person = face_embedding(photo(pair.reference or pair.avatar))
    to_avatar, margins = [], []
    for index in range(15, 75, 10):
        swapped, filmed = face_embedding(result[index]), face_embedding(source[index])
        if swapped is not None and filmed is not None:
            to_avatar.append(identity_distance(swapped, person))
            margins.append(identity_distance(swapped, filmed) - to_avatar[-1])
    return float(np.median(to_avatar)), float(np.median(margins))


def main() -> None:
    rows = ["| pair | avatar change | eye_corner_px | sharpness | to avatar | margin |", "| --- | --- | --- | --- | --- | --- |"]
    for pair in PAIRS:
        portrait = portrait_around_face(photo(pair.avatar))
        variants = [(f"eyes {px} px" if px else "as given", _shrunk(portrait, px) if px else portrait)
                    for px in EYE_PX]
        variants += [(f"blur σ {sigma} (at 64 px eyes)", _blurred(portrait, sigma)) for sigma in BLUR]
        for label, avatar in variants:
            started = time.perf_counter()
            try:
                figures = measure_avatar(avatar, avatar_face_points(avatar, 0.5))
            except UgcSwapError as error:
                rows.append(f"| {pair.name} | {label} | refused before measuring: `{error.code}` | | | |")
                continue
            with _gate_open():
                to_avatar, margin = _identity(pair, avatar)
            rows.append(f"| {pair.name} | {label} | {figures['eye_corner_px']:.0f} | {figures['sharpness']:.3f} | "
                        f"{to_avatar:.3f} | {margin:+.3f} |")
            print(rows[-1], f"{time.perf_counter() - started:.0f}s", flush=True)
    lines = "\n".join(f"- `{name}`: refuse {'below' if line.higher_is_better else 'above'} {line.refuse}, warn "
                      f"{'below' if line.higher_is_better else 'above'} {line.warn}" for name, line in LINES.items())
    doc = ["# Avatar gate: where its lines come from", "",
           f"Measured {time.strftime('%Y-%m-%d')} by `python bench/avatar_gate.py`: tuning avatars shrunk or blurred, "
           "swapped onto a filmed face (720p talking clip), identity judged as in docs/quality.md.", "",
           "The gate's lines (custom_nodes/ugc_swap/core/faces/avatar_quality.py):", "", lines, "", *rows, "",
           "Reading the table (2026-11-30): identity barely moves as the photo shrinks down to 36 px between the "
           "outer eye corners and slips from 28 px (these filmed faces are ~140 px wide; a close-up needs more of "
           "the photo's pixels, hence the warning from 60 px). Blur is harmless up to σ 2 (sharpness ~0.12), costs "
           "up to 0.15 of distance at σ 3 (~0.09; one pair fails there) and collapses the swap at σ 4.5 (~0.07): "
           "refused below 0.10, a warning below 0.16. Turn, closed eyes, the face cut by the photo's edge and "
           "black-and-white photos are refused on what they do to the swap (a frontal photo warped onto a turned "
           "head stretches; closed eyes are pasted closed; a cut face has no texture to paste; a grey photo gives "
           "grey lips and eyes on colour footage), with lines at the figures tests/test_avatar_gate.py measures on "
           "real photos (a laughing woman with her eyes shut: opening 0.09; open eyes: 0.21-0.45).", ""]
    (REPO / "docs" / "avatar_gate.md").write_text("\n".join(doc))
    print("wrote docs/avatar_gate.md")


if __name__ == "__main__":
    main()
