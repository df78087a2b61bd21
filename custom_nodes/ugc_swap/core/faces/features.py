"""Where a face's features are: eyes, brows and lips as filled regions over a patch, from the mesh.

Skin statistics (colour matching, light) must leave them out: lipstick, eye make-up or dark brows are not the
skin's colour, and a face's features sit in different places on two people.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=1)
def feature_ids() -> tuple[np.ndarray, ...]:
    """Mesh indices of the right eye, left eye, right brow, left brow and lips."""
    from mediapipe.python.solutions import face_mesh_connections as mesh

    def ids(connection) -> np.ndarray:
        return np.array(sorted({i for edge in connection for i in edge}))

    return tuple(ids(c) for c in (mesh.FACEMESH_RIGHT_EYE, mesh.FACEMESH_LEFT_EYE, mesh.FACEMESH_RIGHT_EYEBROW,
                                  mesh.FACEMESH_LEFT_EYEBROW, mesh.FACEMESH_LIPS))


# How far around each feature the region reaches, as a share of the face width: lashes and make-up around the
# eyes, the soft edge of a brow.
_GROW = (0.04, 0.04, 0.02, 0.02, 0.0)


def feature_mask(points: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """bool over `box` (x0, y0, x1, y1): True on the eyes, brows and lips of the face with mesh `points`."""
    x0, y0, x1, y1 = box
    width = float(np.ptp(points[:, 0]))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for ids, grow in zip(feature_ids(), _GROW):
        hull = cv2.convexHull(np.round(points[ids, :2] - (x0, y0)).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1)
        if grow:
            radius = max(1, round(grow * width))
            cv2.polylines(mask, [hull], True, 1, 2 * radius)
    return mask.astype(bool)
