"""Which part of the filmed face is visible: the face minus whatever is in front of it (a product, a hand).

Two cues, both cheap enough for every frame on CPU:
- the face's own recent appearance: each frame's face is resampled into a small fixed frontal layout (the mesh
  makes that exact whatever the pose), where a pixel that suddenly differs from how that spot of the face has
  looked lately is something in front of it; the reference follows slow changes (light, expression) but not the
  occluder itself;
- hands, from mediapipe's hand model (`hands.py`), which knows a hand even when it arrives in the first frame.
The occluder map rises at once (a cup must never be painted over, not even for one frame) and falls over a few
frames, so edges of a moving occluder do not flicker.
"""

from __future__ import annotations

import cv2
import numpy as np

from .hands import HandFinder
from .warp import Region, nondegenerate, remap_coordinates, triangle_affines, triangle_index_map

_LAYOUT_SIDE = 64  # px of the frontal layout: enough for a cup's edge, tiny next to the frame
_MIN_DIFFERENCE = 30.0  # RGB distance below which a change is never an occluder (noise, compression, resampling)
_NOISE_FACTOR = 3.0  # ... and a change must exceed this many times the face's typical change this frame
_NOISE_PERCENTILE = 30  # typical change, from the quieter part of the face (an occluder may cover half of it)
_FOLLOW = 0.15  # per frame: how fast the reference takes in visible pixels (lighting, expressions)
_ABSORB = 0.01  # per frame at occluded pixels: an occluder that never leaves fades into the reference in ~3 s
_DECAY = 0.6  # per frame: how fast a spot the occluder left is given back to the swap
_MIN_BLOB = 5  # px of the layout (~8 % of the face): smaller changes (a blink, lips) are expression, not occluders
# Occluder map values above this are cut out of the face. A low cut: the map comes from a coarse layout, so an
# occluder's edge is blurred over a few pixels.
OCCLUDER_CUT = 0.25


class FaceAppearance:
    """The face's recent look in a fixed frontal layout, and the occluders found against it."""

    def __init__(self, template_points: np.ndarray, triangles: np.ndarray) -> None:
        low, high = template_points.min(axis=0), template_points.max(axis=0)
        scale = (_LAYOUT_SIDE - 4) / float(max(high - low))
        self.points = (template_points - low) * scale + (_LAYOUT_SIDE - (high - low) * scale) / 2
        self._triangles = triangles
        self._index = triangle_index_map(self.points, triangles, nondegenerate(self.points, triangles), (0, 0, _LAYOUT_SIDE, _LAYOUT_SIDE))
        self._inside = self._index >= 0
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_MIN_BLOB, _MIN_BLOB))
        self._rim = np.ones((3, 3), np.uint8)
        self.reset()

    def reset(self) -> None:
        """Forget the reference (the face was lost: it may come back changed)."""
        self._reference: np.ndarray | None = None
        self._occluded = np.zeros((_LAYOUT_SIDE, _LAYOUT_SIDE), np.float32)

    def occluders(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        """float32 (side, side) in the frontal layout: 1 where something is in front of the face."""
        affines, _ = triangle_affines(points, self.points, self._triangles)
        map_x, map_y = remap_coordinates(self._index, affines, (0, 0, _LAYOUT_SIDE, _LAYOUT_SIDE))
        look = cv2.remap(frame, map_x, map_y, cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        if self._reference is None:
            self._reference = look
            return self._occluded
        distance = np.linalg.norm(look - self._reference, axis=2)
        typical = float(np.percentile(distance[self._inside], _NOISE_PERCENTILE))
        changed = ((distance > max(_MIN_DIFFERENCE, _NOISE_FACTOR * typical)) & self._inside).astype(np.uint8)
        changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, self._open)
        # An occluder's rim blends with the face in the resampled layout and falls under the threshold: take it in.
        changed = cv2.dilate(changed, self._rim)
        self._occluded = np.maximum(changed.astype(np.float32), self._occluded * _DECAY)
        rate = np.where(changed > 0, _ABSORB, _FOLLOW).astype(np.float32)[..., None]
        self._reference += rate * (look - self._reference)
        return self._occluded

    def to_region(self, layout_map: np.ndarray, points: np.ndarray, region: Region,
                  triangle_index: np.ndarray | None = None) -> np.ndarray:
        """A layout map drawn onto the filmed face inside `region` (0 off the mesh); `triangle_index` (the filmed
        mesh's over `region`) is made here when not given."""
        if triangle_index is None:
            triangle_index = triangle_index_map(points, self._triangles, nondegenerate(points, self._triangles), region)
        affines, _ = triangle_affines(self.points, points, self._triangles)
        map_x, map_y = remap_coordinates(triangle_index, affines, region)
        return cv2.remap(layout_map, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


class OcclusionFinder:
    """Occluders in front of the main face, frame after frame (one per segment; holds the hand model)."""

    def __init__(self, template_points: np.ndarray, triangles: np.ndarray, find_hands: bool = True) -> None:
        self.appearance = FaceAppearance(template_points, triangles)
        self._hands = HandFinder() if find_hands else None

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()

    def __enter__(self) -> OcclusionFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        self.appearance.reset()

    def occluders(self, frame: np.ndarray, points: np.ndarray, region: Region,
                  triangle_index: np.ndarray | None = None) -> np.ndarray:
        """float32 over `region`: 1 where something covers the face (before any margin or softening).
        `triangle_index` is the filmed mesh's over `region`, made here only when needed if not given."""
        layout = self.appearance.occluders(frame, points)
        # The map decays geometrically after an occluder leaves, so it is almost never all zero; but drawn onto the
        # face it stays below its largest value, and below the cut nothing is cut out: skip the full-size remap.
        found = self.appearance.to_region(layout, points, region, triangle_index) if layout.max() > OCCLUDER_CUT \
            else np.zeros((region[3] - region[1], region[2] - region[0]), np.float32)
        hands = self._hands.mask(frame, region) if self._hands is not None else None
        if hands is not None:
            found = np.maximum(found, hands.astype(np.float32) / 255.0)
        return found


# Margin kept clear around an occluder, as a share of the face width (and at least a few pixels): the cut's soft
# edge falls on the face, not on the cup.
_OCCLUDER_MARGIN = 0.06
_MIN_OCCLUDER_MARGIN_PX = 3.0


def visible_face(face_mask: np.ndarray, occluders: np.ndarray, face_width: float) -> np.ndarray:
    """The face mask with the occluders cut out; the cut's soft edge lies on the face's side of the occluder,
    grown by a margin that scales with the face, so the occluder's own pixels stay exactly as filmed."""
    hard = (occluders > OCCLUDER_CUT).astype(np.uint8)
    if not hard.any():
        return face_mask
    margin = max(1, int(round(max(_MIN_OCCLUDER_MARGIN_PX, _OCCLUDER_MARGIN * face_width))))
    hard = cv2.dilate(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2))
    soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigmaX=margin / 2)
    return face_mask * (1.0 - np.maximum(soft, hard))


def visible_mask_frame(mask: np.ndarray, region: Region, shape: tuple[int, int]) -> np.ndarray:
    """A float mask over `region` as the uint8 whole-frame mask an engine reports (0 outside the region)."""
    x0, y0, x1, y1 = region
    full = np.zeros(shape, np.uint8)
    full[y0:y1, x0:x1] = np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return full


_FULLY_COVERED = 0.04  # share of the face region under an occluder at which the cover counts fully
_COVER_RISE, _COVER_FALL = 0.34, 0.1  # per frame: the cover is taken in fast and let go slowly


class CoverFollower:
    """How much something stands in front of the face (0..1), followed over time: while it does, the face keeps
    the filmed outline (the reshaping warp would move the occluder's parts outside the face), returning to the
    new outline a few frames after it has gone."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._cover = 0.0

    def __call__(self, occluders: np.ndarray | None) -> float:
        now = 0.0
        if occluders is not None and occluders.size:
            now = min(1.0, float((occluders > OCCLUDER_CUT).mean()) / _FULLY_COVERED)
        step = now - self._cover
        self._cover += min(step, _COVER_RISE) if step > 0 else max(step, -_COVER_FALL)
        return self._cover
