"""The avatar gate: whether a face photo can give a swap the customer recognises, judged before any video work.

Each check measures one number on the photo's face and compares it with two lines: below the refusal line the
swap cannot be good (the job is refused with `avatar_low_quality`, naming the reason and the number); between the
lines the swap will still be good but less so (a warning in the result). The lines were set by measuring swaps
made from degraded photos (docs/quality.md, bench/avatar_gate.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import AvatarImageError

OUTER_EYE_CORNERS = (33, 263)
INNER_EYE_CORNERS = (133, 362)
_LIDS = ((159, 145, 33, 133), (386, 374, 263, 362))  # upper, lower, outer corner, inner corner of each eye
_FOREHEAD, _CHIN, _NOSE_TIP = 10, 152, 1
_CHEEKS = (50, 280)


class AvatarQualityError(AvatarImageError):
    code = "avatar_low_quality"


@dataclass(frozen=True)
class Line:
    """A measured figure's refusal and warning lines; `higher_is_better` says which side is good."""

    refuse: float
    warn: float
    higher_is_better: bool = True

    def verdict(self, value: float) -> str:
        def worse(limit: float) -> bool:
            return value < limit if self.higher_is_better else value > limit

        return "refuse" if worse(self.refuse) else "warn" if worse(self.warn) else "ok"


# Figure -> (lines, what the customer is told). Lines from bench/avatar_gate.py's measurements.
LINES: dict[str, Line] = {
    "eye_corner_px": Line(refuse=32.0, warn=60.0),
    "sharpness": Line(refuse=0.10, warn=0.16),
    "turn_degrees": Line(refuse=30.0, warn=20.0, higher_is_better=False),
    "eye_opening": Line(refuse=0.10, warn=0.16),
    "in_frame": Line(refuse=0.90, warn=0.98),
    "colour": Line(refuse=2.0, warn=5.0),
}
_TELL = {
    "eye_corner_px": "the face is too small ({value:.0f} px between the outer eye corners, at least {line:.0f} "
                     "wanted): use a larger or closer photo",
    "sharpness": "the photo is blurred (sharpness {value:.3f}, at least {line:.3f} wanted): use a sharp photo",
    "turn_degrees": "the head is turned {value:.0f} degrees from the camera (at most {line:.0f} wanted): use a "
                    "photo facing the camera",
    "eye_opening": "the eyes look closed (opening {value:.2f} of their width, at least {line:.2f} wanted)",
    "in_frame": "part of the face is outside the photo ({value:.0%} inside, at least {line:.0%} wanted)",
    "colour": "the photo has almost no colour (skin chroma {value:.1f}, at least {line:.1f} wanted): black-and-"
              "white or heavily filtered photos give a grey face",
}


@dataclass(frozen=True)
class AvatarQuality:
    figures: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"figures": {k: round(v, 3) for k, v in self.figures.items()}, "warnings": self.warnings,
                "refusals": self.refusals}


def _eye_corner_px(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[OUTER_EYE_CORNERS[0], :2] - points[OUTER_EYE_CORNERS[1], :2]))


def _turn_degrees(points: np.ndarray) -> float:
    """How far the face turns from the camera (yaw and pitch together), from its 3-D mesh: the angle between the
    face's forward direction and the camera's axis."""
    eyes = (points[OUTER_EYE_CORNERS[1]] - points[OUTER_EYE_CORNERS[0]])
    down = points[_CHIN] - points[_FOREHEAD]
    forward = np.cross(eyes, down)  # x right, y down, z away: a face looking at the camera points along -z
    forward /= max(float(np.linalg.norm(forward)), 1e-9)
    return math.degrees(math.acos(min(1.0, abs(float(forward[2])))))


def _eye_opening(points: np.ndarray) -> float:
    """Lid gap over eye width, the more open eye of the two (one closed eye is a wink, not a closed photo)."""
    openings = []
    for upper, lower, outer, inner in _LIDS:
        width = float(np.linalg.norm(points[outer, :2] - points[inner, :2]))
        openings.append(float(np.linalg.norm(points[upper, :2] - points[lower, :2])) / max(width, 1e-6))
    return max(openings)


def _in_frame(points: np.ndarray, size: tuple[int, int]) -> float:
    width, height = size
    xy = points[:, :2]
    return float(((xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)).mean())


def _aligned_face(rgb: np.ndarray, points: np.ndarray, eye_px: float = 64.0) -> tuple[np.ndarray, np.ndarray]:
    """The face turned upright and scaled so the outer eye corners are `eye_px` apart (never enlarged: area
    averaged down first, so the detail measured is the photo's own), and its mesh moved with it."""
    xy = points[:, :2].astype(np.float64)
    scale = min(1.0, eye_px / max(_eye_corner_px(points), 1e-6))
    if scale < 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        xy = (xy + 0.5) * scale - 0.5
    left, right = xy[OUTER_EYE_CORNERS[0]], xy[OUTER_EYE_CORNERS[1]]
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    centre = (float((left[0] + right[0]) / 2), float((left[1] + right[1]) / 2))
    side = round(4 * eye_px)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[:, 2] += (side / 2 - centre[0], side / 2.8 - centre[1])
    aligned = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return aligned, xy @ matrix[:, :2].T + matrix[:, 2]


def _sharpness(rgb: np.ndarray, points: np.ndarray) -> float:
    """The finest detail's amplitude (under a 1 px blur) over that of the face's structure (between 2 and 6 px
    blurs), inside the face brought to a fixed size: a blurred photo has lost the first and kept the second,
    whatever its pixel size. Sharp photos measure 0.3-0.5; a blur of 1.5 px (at 64 px between the eyes) 0.12-0.2."""
    face, moved = _aligned_face(rgb, points)
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(moved).astype(np.int32)), 1)
    inside = mask.astype(bool)
    fine = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    structure = cv2.GaussianBlur(grey, (0, 0), 2.0) - cv2.GaussianBlur(grey, (0, 0), 6.0)
    return float(np.sqrt(np.mean(fine[inside] ** 2) / max(float(np.mean(structure[inside] ** 2)), 1e-6)))


def _skin_chroma(rgb: np.ndarray, points: np.ndarray) -> float:
    """Mean distance from grey of the cheeks' colour, in Lab units."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    width = float(np.ptp(points[:, 0]))
    radius = max(2, round(0.06 * width))
    samples = []
    for index in _CHEEKS:
        x, y = np.round(points[index, :2]).astype(int)
        patch = lab[max(0, y - radius):y + radius, max(0, x - radius):x + radius].reshape(-1, 3)
        if patch.size:
            samples.append(patch)
    if not samples:
        return 0.0
    chroma = np.concatenate(samples)[:, 1:] - 128.0
    return float(np.linalg.norm(chroma.mean(axis=0)))


def measure_avatar(rgb: np.ndarray, points: np.ndarray) -> dict[str, float]:
    """Every figure the gate judges, for a photo and its (468, 3) mesh."""
    return {
        "eye_corner_px": _eye_corner_px(points),
        "sharpness": _sharpness(rgb, points),
        "turn_degrees": _turn_degrees(points),
        "eye_opening": _eye_opening(points),
        "in_frame": _in_frame(points, (rgb.shape[1], rgb.shape[0])),
        "colour": _skin_chroma(rgb, points),
    }


def judge_avatar(figures: dict[str, float]) -> AvatarQuality:
    quality = AvatarQuality(figures)
    for name, value in figures.items():
        line = LINES[name]
        verdict = line.verdict(value)
        if verdict != "ok":
            limit = line.refuse if verdict == "refuse" else line.warn
            text = _TELL[name].format(value=value, line=line.warn if verdict == "refuse" else limit)
            (quality.refusals if verdict == "refuse" else quality.warnings).append(f"avatar photo: {text}")
    return quality


def check_avatar(rgb: np.ndarray, points: np.ndarray) -> AvatarQuality:
    """The gate's verdict; AvatarQualityError (avatar_low_quality) naming every reason when it refuses."""
    quality = judge_avatar(measure_avatar(rgb, points))
    if quality.refusals:
        raise AvatarQualityError("; ".join(quality.refusals))
    return quality
