"""Piecewise-affine warp of one face onto another's mesh, computed as one dense remap per frame.

Each mesh triangle in the target gets the affine map back to the same triangle in the avatar; a per-pixel
triangle index turns those maps into remap coordinates, so the whole face is sampled by one `cv2.remap`
instead of hundreds of per-triangle warps.
"""

from __future__ import annotations

import cv2
import numpy as np

Region = tuple[int, int, int, int]  # x0, y0, x1, y1, integer pixels, x1/y1 exclusive


def face_region(points: np.ndarray, frame_size: tuple[int, int], margin: float = 0.15) -> Region:
    """Bounding box of the landmarks grown by `margin` of the face size, clipped to the frame."""
    width, height = frame_size
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    pad = margin * max(x1 - x0, y1 - y0)
    return (
        max(0, int(np.floor(x0 - pad))),
        max(0, int(np.floor(y0 - pad))),
        min(width, int(np.ceil(x1 + pad)) + 1),
        min(height, int(np.ceil(y1 + pad)) + 1),
    )


def triangle_affines(source: np.ndarray, target: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) affine maps from target triangles to source triangles, and which triangles are not degenerate."""
    tgt = np.concatenate([target[triangles], np.ones((len(triangles), 3, 1))], axis=2)  # (T, 3, 3) rows [x y 1]
    src = source[triangles]  # (T, 3, 2)
    det = np.linalg.det(tgt)
    valid = np.abs(det) > 1e-6
    affines = np.zeros((len(triangles), 2, 3))
    # Solve tgt @ A^T = src for each triangle: A^T = inv(tgt) @ src.
    affines[valid] = np.linalg.solve(tgt[valid], src[valid]).transpose(0, 2, 1)
    return affines, valid


def warp_face(
    source_image: np.ndarray,
    source_points: np.ndarray,
    target_points: np.ndarray,
    triangles: np.ndarray,
    region: Region,
) -> tuple[np.ndarray, np.ndarray]:
    """The source face drawn onto the target mesh inside `region`, and the mask of pixels the mesh covers."""
    x0, y0, x1, y1 = region
    affines, valid = triangle_affines(source_points, target_points, triangles)
    triangle_index = np.full((y1 - y0, x1 - x0), -1, np.int32)
    local = np.round((target_points - (x0, y0)) * 16).astype(np.int32)
    for t in np.flatnonzero(valid):
        cv2.fillConvexPoly(triangle_index, local[triangles[t]], int(t), lineType=cv2.LINE_8, shift=4)
    covered = triangle_index >= 0
    ys, xs = np.nonzero(covered)
    chosen = affines[triangle_index[ys, xs]]  # (P, 2, 3)
    gx, gy = xs + float(x0), ys + float(y0)
    map_x = np.full(triangle_index.shape, -1.0, np.float32)
    map_y = np.full(triangle_index.shape, -1.0, np.float32)
    map_x[ys, xs] = chosen[:, 0, 0] * gx + chosen[:, 0, 1] * gy + chosen[:, 0, 2]
    map_y[ys, xs] = chosen[:, 1, 0] * gx + chosen[:, 1, 1] * gy + chosen[:, 1, 2]
    warped = cv2.remap(source_image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, covered
