"""A still portrait made to talk, blink and turn its head a little, for test footage with real faces.

No real-person video ships in any package, and a face that never moves its mouth or eyes would let a swap that
breaks on expressions pass. Here the photo's own face mesh is moved (the jaw drops and the lips part, the upper
lids close), the photo is warped with it (the warp's rings carry the motion smoothly into the head around), the
mouth opening is painted as a mouth interior (dark, with a row of upper teeth), and the head turns about its
vertical axis. All of it is a function of time, so every clip is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ugc_swap.core.faces.face_shape import jaw_weights
from ugc_swap.core.faces.landmarks import INNER_MOUTH, FaceAnalyzer, mesh_triangles
from ugc_swap.core.faces.surround import extended_meshes, surround_triangles
from ugc_swap.core.faces.warp import mesh_grid, triangle_affines

_UPPER_LIDS = ((246, 161, 160, 159, 158, 157, 173), (466, 388, 387, 386, 385, 384, 398))
_LOWER_LIDS = ((7, 163, 144, 145, 153, 154, 155), (249, 390, 373, 374, 380, 381, 382))
_MOUTH_DARK = np.array([52, 22, 26], np.float32)
_TEETH = np.array([222, 216, 204], np.float32)


@dataclass(frozen=True)
class Expression:
    mouth: float  # 0 closed .. 1 wide open (the jaw drops 14 % of the face height)
    blink: float  # 0 open .. 1 closed
    yaw: float  # degrees, + turns the face to its left


def talking(t: float) -> Expression:
    """A few words, one blink, a small turn of the head: the expression at time t (s)."""
    mouth = max(0.0, math.sin(2 * math.pi * t / 0.9)) * (0.55 + 0.45 * math.sin(2 * math.pi * t / 2.3) ** 2)
    blink = max(0.0, 1.0 - abs(t % 2.5 - 1.2) / 0.1)
    return Expression(mouth, blink, 10.0 * math.sin(2 * math.pi * t / 4.0))


def portrait_around_face(photo: np.ndarray, side_per_face: float = 2.6, max_side: int = 1200) -> np.ndarray:
    """A square crop of `photo` around its largest face (edges repeated where the photo ends), at most `max_side`
    px (a clip shows it at most 670 px tall; a 3000 px portrait would only slow every frame's warp)."""
    with FaceAnalyzer() as analyzer:
        bordered = cv2.copyMakeBorder(photo, *(max(photo.shape[:2]) // 3,) * 4, cv2.BORDER_REPLICATE)
        faces = sorted(analyzer.detect(bordered), key=lambda d: d.box[0] - d.box[2])
    if not faces:
        raise ValueError("no face in the photo")
    x0, y0, x1, y1 = faces[0].box
    side = int(side_per_face * (x1 - x0))
    left, top = int((x0 + x1) / 2 - side / 2), int((y0 + y1) / 2 - side * 0.45)
    pad = side
    big = cv2.copyMakeBorder(bordered, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = np.ascontiguousarray(big[top + pad:top + pad + side, left + pad:left + pad + side])
    if side > max_side:
        crop = cv2.resize(crop, (max_side, max_side), interpolation=cv2.INTER_AREA)
    return crop


class TalkingPortrait:
    """`frame(t)`: the portrait with the expression of `talking(t)` (or any other `Expression`)."""

    def __init__(self, portrait: np.ndarray) -> None:
        self.portrait = portrait
        with FaceAnalyzer() as analyzer:
            faces = sorted(analyzer.detect(portrait), key=lambda d: d.box[0] - d.box[2])
            mesh = analyzer.landmarks(portrait, faces[0].box) if faces else None
        if mesh is None:
            raise ValueError("no face mesh in the portrait")
        self.mesh = mesh[:, :2]
        self.width = float(np.ptp(self.mesh[:, 0]))
        height = float(np.ptp(self.mesh[:, 1]))
        self._jaw_weight = jaw_weights(self.mesh)
        self._jaw_drop = 0.14 * height
        self._triangles = np.vstack([mesh_triangles(), surround_triangles()])

    def frame(self, t: float, expression: Expression | None = None) -> np.ndarray:
        expression = expression or talking(t)
        moved = self.mesh.copy()
        moved[:, 1] += expression.mouth * self._jaw_drop * self._jaw_weight
        for upper, lower in zip(_UPPER_LIDS, _LOWER_LIDS):
            gap = self.mesh[list(lower)] - self.mesh[list(upper)]
            moved[list(upper)] += expression.blink * 0.95 * gap
        image = self._warped(moved)
        if expression.mouth > 0.02:
            image = self._mouth_interior(image, moved)
        if abs(expression.yaw) > 0.1:
            image = _turned(image, moved, expression.yaw)
        return image

    def _warped(self, moved: np.ndarray) -> np.ndarray:
        source, target = extended_meshes(self.mesh, moved, self.width)
        height, width = self.portrait.shape[:2]
        grid = mesh_grid(target, self._triangles, (0, 0, width, height), self.width)
        affines, _ = triangle_affines(source, target, self._triangles)
        map_x, map_y = grid.maps(affines, identity_off_mesh=True)
        return cv2.remap(self.portrait, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _mouth_interior(self, image: np.ndarray, moved: np.ndarray) -> np.ndarray:
        lips = moved[list(INNER_MOUTH)]
        mask = np.zeros(image.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(lips).astype(np.int32)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), 0.8)
        top = lips[:, 1].min()
        depth = max(lips[:, 1].max() - top, 1.0)
        rows = np.arange(image.shape[0], dtype=np.float32)[:, None, None]
        teeth = np.clip((0.35 * depth - (rows - top)) / (0.08 * depth), 0.0, 1.0)  # the upper teeth's row
        colour = _MOUTH_DARK + teeth * (_TEETH - _MOUTH_DARK)
        blended = image.astype(np.float32) * (1 - mask[..., None]) + colour * mask[..., None]
        return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _turned(image: np.ndarray, mesh: np.ndarray, yaw_degrees: float) -> np.ndarray:
    """The head turned about a vertical axis: the face treated as a cylinder around its centre line (radius 0.6
    face widths), what turns out of sight hidden, the background left where it is."""
    x0, x1 = float(mesh[:, 0].min()), float(mesh[:, 0].max())
    centre, radius = (x0 + x1) / 2, 0.6 * (x1 - x0) * 1.3
    height, width = image.shape[:2]
    xs = np.arange(width, dtype=np.float32)
    seen = np.clip((xs - centre) / radius, -1.0, 1.0)
    angle = np.arcsin(seen) - math.radians(yaw_degrees)
    source_x = np.where(np.abs(angle) < math.pi / 2, centre + radius * np.sin(angle), xs)
    source_x = np.where(np.abs(xs - centre) < radius, source_x, xs).astype(np.float32)
    map_x = np.repeat(source_x[None, :], height, axis=0)
    map_y = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
