"""Face detection and the 468-point face mesh, from the models that ship inside mediapipe 0.10.21 (Apache-2.0).

Full-range detection finds small faces that FaceMesh alone misses; the mesh then runs on a square crop around
each detection, which also keeps its cost independent of the video's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .resample import shrink, whole_factor
from .tracking import Box, box_iou

MESH_POINTS = 468  # the iris points 468-477 are not part of the surface mesh
_DETECT_LONG_SIDE = 640
_MESH_CROP_SCALE = 2.2
_MESH_CROP_SIDE = 320
_BOX_PER_MESH_SIDE = 0.96
_TILE_SHARE = 0.6  # each quarter searched is this share of the frame's width and height (they overlap by 20 %)
_SAME_FACE_IOU = 0.4

# Inner lip contour, in order around the mouth opening.
INNER_MOUTH = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)


@dataclass(frozen=True)
class DetectedFace:
    box: Box
    score: float


class FaceAnalyzer:
    """Holds one detector and one mesh model; not thread-safe, so each worker makes its own."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        from mediapipe.python.solutions import face_detection, face_mesh

        self._detector = face_detection.FaceDetection(model_selection=1, min_detection_confidence=min_confidence)
        self._mesh = face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3
        )

    def close(self) -> None:
        self._detector.close()
        self._mesh.close()

    def __enter__(self) -> FaceAnalyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def detect(self, rgb: np.ndarray, tiles: bool | None = None) -> list[DetectedFace]:
        """All faces in the frame, boxes in the frame's pixel coordinates.

        The detector sees the whole frame at its own small input size, where a face under ~90 px of a 720p frame
        is often missed (measured on the face set: 13 of 30 found at ~60 px, all 30 at twice the size). So the
        frame is also searched in four overlapping quarters, each at twice the scale: always with `tiles=True`,
        and with the default only when the whole frame showed no face (a wide shot, a crowd)."""
        faces = self._detect_once(rgb)
        if tiles or (tiles is None and not faces):
            faces = self.with_quarters(rgb, faces)
        return faces

    def with_quarters(self, rgb: np.ndarray, whole_frame: list[DetectedFace]) -> list[DetectedFace]:
        """`whole_frame` (this frame's whole-frame detections) and what the quarters add to them."""
        return _merged(whole_frame + self._detect_in_quarters(rgb))

    def _detect_in_quarters(self, rgb: np.ndarray) -> list[DetectedFace]:
        height, width = rgb.shape[:2]
        tile_w, tile_h = int(width * _TILE_SHARE), int(height * _TILE_SHARE)
        found = []
        for top in (0, height - tile_h):
            for left in (0, width - tile_w):
                for face in self._detect_once(np.ascontiguousarray(rgb[top:top + tile_h, left:left + tile_w])):
                    x0, y0, x1, y1 = face.box
                    found.append(DetectedFace((x0 + left, y0 + top, x1 + left, y1 + top), face.score))
        return found

    def _detect_once(self, rgb: np.ndarray) -> list[DetectedFace]:
        height, width = rgb.shape[:2]
        scale = min(1.0, _DETECT_LONG_SIDE / max(height, width))
        small = rgb if scale == 1.0 else cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        result = self._detector.process(np.ascontiguousarray(small))
        faces = []
        for detection in result.detections or []:
            rel = detection.location_data.relative_bounding_box
            x0, y0 = max(0.0, rel.xmin * width), max(0.0, rel.ymin * height)
            x1, y1 = min(width, (rel.xmin + rel.width) * width), min(height, (rel.ymin + rel.height) * height)
            if x1 > x0 and y1 > y0:
                faces.append(DetectedFace((x0, y0, x1, y1), float(detection.score[0])))
        return faces

    def landmarks(self, rgb: np.ndarray, box: Box) -> np.ndarray | None:
        """The 468 mesh points (x, y, z) in frame pixels for the face in `box`, or None when the mesh fails.

        z is depth in the same pixel scale as x (larger is farther from the camera), relative to the head."""
        height, width = rgb.shape[:2]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        side = max(box[2] - box[0], box[3] - box[1]) * _MESH_CROP_SCALE
        # A side that the shrink's whole factor divides, so the crop is averaged down exactly (a few px larger).
        factor = whole_factor(int(round(side)), _MESH_CROP_SIDE)
        side_px = -(-int(round(side)) // factor) * factor
        x0, y0 = int(round(cx - side_px / 2)), int(round(cy - side_px / 2))
        x1, y1 = x0 + side_px, y0 + side_px
        crop = rgb[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)]
        # Pad where the crop leaves the frame so the face stays centred, as the mesh model expects.
        crop = cv2.copyMakeBorder(
            crop, max(-y0, 0), max(y1 - height, 0), max(-x0, 0), max(x1 - width, 0), cv2.BORDER_CONSTANT
        )
        scale = _MESH_CROP_SIDE / crop.shape[0]
        if scale < 1:
            resized = shrink(crop, (_MESH_CROP_SIDE, _MESH_CROP_SIDE))
        else:
            resized = cv2.resize(crop, (_MESH_CROP_SIDE, _MESH_CROP_SIDE), interpolation=cv2.INTER_LINEAR)
        result = self._mesh.process(resized)
        if not result.multi_face_landmarks:
            return None
        points = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark[:MESH_POINTS]],
                          np.float64)
        return points * _MESH_CROP_SIDE / scale + (x0, y0, 0.0)


def _merged(faces: list[DetectedFace]) -> list[DetectedFace]:
    """One detection per face: where boxes overlap (a face seen whole and in a quarter), the surer one."""
    kept: list[DetectedFace] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(box_iou(face.box, other.box) < _SAME_FACE_IOU for other in kept):
            kept.append(face)
    return kept


def face_box(points: np.ndarray) -> Box:
    """The box the detector would draw around the face of these mesh points: a square about as tall as the mesh,
    on its centre (measured on the sample faces: side 0.92-0.99 of the mesh's larger side, centre within 4 %)."""
    (x0, y0), (x1, y1) = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    half = _BOX_PER_MESH_SIDE * max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


@lru_cache(maxsize=1)
def mesh_triangles() -> np.ndarray:
    """(T, 3) vertex indices of the mesh surface, the triangles of mediapipe's tessellation."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    neighbours: dict[int, set[int]] = {}
    for a, b in FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = {
        tuple(sorted((a, b, c)))
        for a, b in FACEMESH_TESSELATION
        for c in neighbours[a] & neighbours[b]
    }
    return np.array(sorted(triangles), np.int32)


@lru_cache(maxsize=1)
def face_outline() -> tuple[int, ...]:
    """Mesh indices around the face (jaw, temples, forehead), in order."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    following = dict(FACEMESH_FACE_OVAL)
    start = min(following)
    ring = [start]
    while following[ring[-1]] != start:
        ring.append(following[ring[-1]])
    return tuple(ring)
