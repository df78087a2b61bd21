"""Hard product-demo shots made from real photos with synthetic motion: a real cup sliding over a real face, a face
photo turned towards profile, a face photo lit from one side. Plus the before/after sheets the tests leave behind."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from ugc_swap.core.faces.landmarks import FaceAnalyzer, face_outline
from ugc_swap.core.sample_media import sample_face

# Next to the CLI's results (./output, ignored by git), so a reviewer finds the sheets of the last run in one place.
RESULTS_DIR = Path(__file__).resolve().parent.parent / "output" / "test_results"


def save_sheet(name: str, rows: list[list[np.ndarray]], labels: list[str]) -> Path:
    """A grid of RGB frames (one row per moment, columns as labelled) written as RESULTS_DIR/<name>.png."""
    height = 240
    scaled = [[cv2.resize(f, (round(f.shape[1] * height / f.shape[0]), height), interpolation=cv2.INTER_AREA)
               for f in row] for row in rows]
    sheet = np.vstack([np.hstack(row) for row in scaled])
    header = np.full((28, sheet.shape[1], 3), 255, np.uint8)
    width = scaled[0][0].shape[1]
    for column, label in enumerate(labels):
        cv2.putText(header, label, (column * width + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.png"
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack([header, sheet]), cv2.COLOR_RGB2BGR))
    return path


def cup_cutout() -> tuple[np.ndarray, np.ndarray]:
    """The espresso cup of scikit-image's `coffee` photo (a real object), cut out with a hard elliptical edge:
    RGB uint8 and a boolean alpha."""
    from skimage.data import coffee

    photo = coffee()[10:290, 165:415]
    alpha = np.zeros(photo.shape[:2], np.uint8)
    cv2.ellipse(alpha, (125, 132), (122, 136), 0, 0, 360, 1, -1)
    return np.ascontiguousarray(photo), alpha.astype(bool)


def face_box(frame: np.ndarray) -> tuple[float, float, float, float]:
    with FaceAnalyzer() as analyzer:
        return analyzer.detect(frame)[0].box


def slide_cup(frames: list[np.ndarray], start: int, stop: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The cup (half a face wide) slides in from the right and over the lower right cheek and jaw between frames
    `start` and `stop`, then stays; returns the frames and the cup's mask in each (all False before `start`)."""
    cup, cup_alpha = cup_cutout()
    out, masks = [], []
    with FaceAnalyzer() as analyzer:
        for index, frame in enumerate(frames):
            mask = np.zeros(frame.shape[:2], bool)
            frame = frame.copy()
            if index >= start:
                x0, y0, x1, y1 = analyzer.detect(frame)[0].box
                side = 0.55 * (x1 - x0)
                scale = side / cup.shape[1]
                small = cv2.resize(cup, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                small_alpha = cv2.resize(cup_alpha.astype(np.uint8), (small.shape[1], small.shape[0]),
                                         interpolation=cv2.INTER_NEAREST).astype(bool)
                t = min(1.0, (index - start) / max(1, stop - start))
                cx = x1 + 0.6 * side + t * ((x0 + 0.95 * (x1 - x0)) - (x1 + 0.6 * side))
                cy = y0 + 0.85 * (y1 - y0)
                left, top = int(round(cx - small.shape[1] / 2)), int(round(cy - small.shape[0] / 2))
                _paste(frame, mask, small, small_alpha, left, top)
            out.append(frame)
            masks.append(mask)
    return out, masks


def _paste(frame: np.ndarray, mask: np.ndarray, image: np.ndarray, alpha: np.ndarray, left: int, top: int) -> None:
    height, width = frame.shape[:2]
    fx0, fy0 = max(0, left), max(0, top)
    fx1, fy1 = min(width, left + image.shape[1]), min(height, top + image.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    part = alpha[fy0 - top:fy1 - top, fx0 - left:fx1 - left]
    frame[fy0:fy1, fx0:fx1][part] = image[fy0 - top:fy1 - top, fx0 - left:fx1 - left][part]
    mask[fy0:fy1, fx0:fx1] |= part


def turned_face(photo: np.ndarray, yaw_degrees: float) -> np.ndarray:
    """The photo's head turned by `yaw_degrees` about a vertical axis: the face is treated as a cylinder around
    its centre line (radius 0.6 face widths), what turns out of sight is hidden, the background stays."""
    x0, y0, x1, y1 = face_box(photo)
    centre, radius = (x0 + x1) / 2, 0.6 * (x1 - x0)
    height, width = photo.shape[:2]
    xs = np.arange(width, dtype=np.float32)
    seen = np.clip((xs - centre) / radius, -1.0, 1.0)
    angle = np.arcsin(seen) - math.radians(yaw_degrees)
    source_x = np.where(np.abs(angle) < math.pi / 2, centre + radius * np.sin(angle), np.nan)
    source_x = np.where(np.abs(xs - centre) < radius, source_x, xs).astype(np.float32)
    hidden = np.isnan(source_x)
    source_x[hidden] = xs[hidden]
    map_x = np.repeat(source_x[None, :], height, axis=0)
    map_y = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    return cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def side_lit(photo: np.ndarray, dark: float = 0.25, bright: float = 1.2) -> np.ndarray:
    """The photo relit by a light from the right: brightness ramps from `dark` at the face's left edge to `bright`
    at its right edge (constant beyond)."""
    x0, _, x1, _ = face_box(photo)
    ramp = np.clip((np.arange(photo.shape[1], dtype=np.float32) - x0) / (x1 - x0), 0.0, 1.0)
    gain = dark + (bright - dark) * ramp
    return np.clip(photo.astype(np.float32) * gain[None, :, None] + 0.5, 0, 255).astype(np.uint8)


def face_halves_ratio(frame: np.ndarray, points: np.ndarray) -> float:
    """Mean brightness of the face's left half over its right half (inside the face outline, away from its edge)."""
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[np.array(face_outline())]).astype(np.int32)], 1)
    width = float(np.ptp(points[:, 0]))
    mask = cv2.erode(mask, np.ones((int(0.1 * width),) * 2, np.uint8))
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64)
    middle = points[1, 0]  # the nose tip
    columns = np.arange(frame.shape[1])[None, :]
    left = (mask > 0) & (columns < middle)
    right = (mask > 0) & (columns >= middle)
    return float(grey[left].mean() / grey[right].mean())


def photo_frames(photo: np.ndarray, count: int, size: tuple[int, int] = (768, 512)) -> list[np.ndarray]:
    """`count` frames of the photo drifting slowly across a grey canvas (a still photo is not a video)."""
    width, height = size
    frames = []
    for index in range(count):
        canvas = np.full((height, width, 3), 96, np.uint8)
        dx = int(round((width - photo.shape[1]) / 2 + 12 * math.sin(index / 9)))
        canvas[:, dx:dx + photo.shape[1]] = photo[:height]
        frames.append(canvas)
    return frames
