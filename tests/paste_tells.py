"""The four "paste tells" of a swapped face, measured the same way on the filmed frame and on the result, each from
the face mesh a fresh mediapipe fit finds in that frame (independent of the engine's own tracking).

- edge: mean luma gradient along the face outline (a seam or a pasted edge raises it, a blurred one lowers it);
- sharpness: how crisp the face's skin is against its surroundings (hair, neck, background ring): in each, the
  finest band's energy over the next band's (1 px and 1-2.5 px blurs), which does not depend on how much there
  is to see there, only on how its detail falls off; eyes, brows and lips are left out, as two people's
  features differ in size and crispness whatever the swap does;
- skin: colour difference (CIE76 ΔE) between the cheeks and the neck just below the jaw;
- flicker: mean change of the face's look from one frame to the next, in a frontal layout that takes out the
  face's motion and expression.
A result passes when each is within 20 % of the filmed figure (with a small floor for figures near zero, where
20 % is below what anyone can see: 2 ΔE, 0.5 grey levels of flicker).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ugc_swap.core.faces.features import feature_mask
from ugc_swap.core.faces.landmarks import FaceAnalyzer, face_outline, mesh_triangles
from ugc_swap.core.faces.warp import nondegenerate, remap_coordinates, triangle_affines, triangle_index_map

TOLERANCE = 0.2
FLOORS = {"edge": 0.0, "sharpness": 0.0, "skin": 2.0, "flicker": 0.5}
_CHEEKS = (50, 280)
_CHIN = 152
_NECK_NOT_SKIN = 20.0  # ΔE between cheeks and "neck" beyond which the neck region is not skin


def _mesh(analyzer: FaceAnalyzer, frame: np.ndarray) -> np.ndarray | None:
    found = analyzer.detect(frame)
    if not found:
        return None
    box = max(found, key=lambda d: d.box[2] - d.box[0]).box
    points = analyzer.landmarks(frame, box)
    return None if points is None else points[:, :2]


def _oval(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points[np.array(face_outline())]).astype(np.int32)], 1)
    return mask


def _disc(px: float) -> np.ndarray:
    side = 2 * max(1, round(px)) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))


def _band(luma: np.ndarray) -> np.ndarray:
    return luma - cv2.GaussianBlur(luma, (0, 0), 1.0)


def _next_band(luma: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(luma, (0, 0), 1.0) - cv2.GaussianBlur(luma, (0, 0), 2.5)


def edge_gradient(frame: np.ndarray, points: np.ndarray) -> float:
    """Mean luma gradient in a band of ±4 % of the face width along the face outline of `points`."""
    luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    width = float(np.ptp(points[:, 0]))
    oval = _oval(luma.shape, points)
    band = (cv2.dilate(oval, _disc(0.04 * width)) > 0) & ~(cv2.erode(oval, _disc(0.04 * width)) > 0)
    gradient = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    return float(gradient[band].mean())


def sharpness_and_skin(frame: np.ndarray, points: np.ndarray) -> tuple[float, float | None]:
    """Finest-band energy inside the face over its surroundings', and the cheek-to-neck colour difference (None
    when there is no neck to compare with), over regions placed by `points`."""
    luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    width = float(np.ptp(points[:, 0]))
    oval = _oval(luma.shape, points)
    core = (cv2.erode(oval, _disc(0.12 * width)) > 0) & ~feature_mask(points, (0, 0, luma.shape[1], luma.shape[0]))
    ring = (cv2.dilate(oval, _disc(0.25 * width)) > 0) & ~(cv2.dilate(oval, _disc(0.06 * width)) > 0)
    fine, mid = np.square(_band(luma)), np.square(_next_band(luma))

    def crispness(region: np.ndarray) -> float:
        return float(fine[region].mean() / max(float(mid[region].mean()), 1e-6))

    sharpness = crispness(core) / max(crispness(ring), 1e-6)
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255
    lab[..., 1:] -= 128
    radius = max(2, round(0.06 * width))
    cheeks = np.zeros(luma.shape, np.uint8)
    for index in _CHEEKS:
        cv2.circle(cheeks, tuple(int(v) for v in np.round(points[index])), radius, 1, -1)
    chin = points[_CHIN]
    # The neck just under the chin, as wide as the mouth.
    neck = np.zeros(luma.shape, np.uint8)
    half = 0.15 * width
    top = chin[1] + 0.06 * width
    cv2.rectangle(neck, (int(chin[0] - half), int(top)), (int(chin[0] + half), int(top + 0.12 * width)), 1, -1)
    neck = (neck > 0) & ~(cv2.dilate(oval, _disc(0.03 * width)) > 0)
    if neck.sum() < 20:
        return sharpness, None
    return sharpness, float(np.linalg.norm(lab[cheeks > 0].mean(axis=0) - lab[neck].mean(axis=0)))


def flicker(frames: list[np.ndarray], meshes: list[np.ndarray]) -> float:
    """Median over frame pairs of the mean absolute change of the face's look from one frame to the next: each
    frame's face is drawn into one fixed frontal layout (64 px, through its own mesh, so motion and expression
    are taken out) and slightly blurred, so what is left is how the face's appearance itself changes."""
    side = 64
    template = meshes[0] - meshes[0].min(axis=0)
    template = template * ((side - 4) / float(template.max())) + 2
    triangles = mesh_triangles()
    index = triangle_index_map(template, triangles, nondegenerate(template, triangles), (0, 0, side, side))
    inside = cv2.erode((index >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    looks = []
    for frame, mesh in zip(frames, meshes):
        affines, _ = triangle_affines(mesh, template, triangles)
        map_x, map_y = remap_coordinates(index, affines, (0, 0, side, side))
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        looks.append(cv2.GaussianBlur(cv2.remap(grey, map_x, map_y, cv2.INTER_AREA), (0, 0), 1.0))
    return float(np.median([np.abs(b - a)[inside].mean() for a, b in zip(looks, looks[1:])]))


def measure(filmed: list[np.ndarray], result: list[np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    """The four tells over consecutive frames of the filmed video and the result (medians over frames), each
    frame's regions placed by its own face mesh (the swapped face may have a new outline: its own face is what is
    compared with its own surroundings). A neck that is not skin in the filmed frame (a collar, a scarf: more
    than 20 ΔE from the cheeks) leaves the skin figure out."""
    with FaceAnalyzer() as analyzer:
        filmed_meshes = [_mesh(analyzer, f) for f in filmed]
        result_meshes = [_mesh(analyzer, f) for f in result]
    keep = [i for i, (a, b) in enumerate(zip(filmed_meshes, result_meshes)) if a is not None and b is not None]
    if len(keep) < 2:
        raise AssertionError("no face found in the frames to measure")
    figures = []
    for frames, meshes in ((filmed, filmed_meshes), (result, result_meshes)):
        placed = [sharpness_and_skin(frames[i], meshes[i]) for i in keep]
        skins = [skin for _, skin in placed if skin is not None]
        figures.append({"edge": float(np.median([edge_gradient(frames[i], meshes[i]) for i in keep])),
                        "sharpness": float(np.median([sharp for sharp, _ in placed])),
                        "skin": float(np.median(skins)) if skins else float("nan"),
                        "flicker": flicker([frames[i] for i in keep], [meshes[i] for i in keep])})
    if not figures[0]["skin"] <= _NECK_NOT_SKIN:
        figures[0]["skin"] = figures[1]["skin"] = float("nan")
    return figures[0], figures[1]


def within(result: dict[str, float], filmed: dict[str, float]) -> dict[str, bool]:
    """Per tell: whether the result's figure is within TOLERANCE of the filmed one (or of its floor); a figure
    that could not be measured (NaN) is left out."""
    return {name: abs(result[name] - filmed[name]) <= TOLERANCE * max(filmed[name], FLOORS[name] / TOLERANCE)
            for name in filmed if not np.isnan(filmed[name])}
