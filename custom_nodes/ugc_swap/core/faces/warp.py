"""Piecewise-affine warp of one face onto another's mesh, computed as one dense remap per frame.

Each mesh triangle in the target gets the affine map back to the same triangle in the avatar; a per-pixel
triangle index turns those maps into remap coordinates, so the whole face is sampled by one `cv2.remap`
instead of hundreds of per-triangle warps.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each mesh triangle (the determinant of its [x y 1] rows)."""
    p0, p1, p2 = (points[triangles[:, k]] for k in range(3))
    return (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p2[:, 0] - p0[:, 0]) * (p1[:, 1] - p0[:, 1])


def nondegenerate(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Which mesh triangles have an area (a warp onto a collapsed triangle is undefined)."""
    return np.abs(_signed_areas(points, triangles)) > 1e-6


def triangle_affines(source: np.ndarray, target: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) affine maps from target triangles to source triangles, and which triangles are not degenerate.

    Closed form (barycentric coordinates from the adjugate of each 3x3): numpy's batched `solve` spent ~10 ms per
    frame on the ~900 tiny systems of the mesh."""
    area = _signed_areas(target, triangles)
    valid = np.abs(area) > 1e-6
    safe = np.where(valid, area, 1.0)
    t0, t1, t2 = (target[triangles[:, k]] for k in range(3))
    # Barycentric weight of vertex k at (x, y) is (a_k x + b_k y + c_k) / area, from the opposite edge.
    rows = []
    for a, b in ((t1, t2), (t2, t0), (t0, t1)):
        ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        rows.append(np.stack([ay - by, bx - ax, ax * by - bx * ay], axis=1) / safe[:, None])  # (T, 3)
    barycentric = np.stack(rows, axis=1)  # (T, 3 vertices, 3 coefficients)
    src = source[triangles]  # (T, 3, 2)
    affines = src.transpose(0, 2, 1) @ barycentric
    affines[~valid] = 0.0
    return affines, valid


def triangle_index_map(target_points: np.ndarray, triangles: np.ndarray, valid: np.ndarray, region: Region) -> np.ndarray:
    """(H, W) int32 over `region`: which mesh triangle covers each pixel, -1 outside the mesh.

    The costly part of a warp (one polygon fill per triangle), so one map serves every warp onto the same mesh."""
    x0, y0, x1, y1 = region
    triangle_index = np.full((y1 - y0, x1 - x0), -1, np.int32)
    local = np.round((target_points - (x0, y0)) * 16).astype(np.int32)
    ids = np.flatnonzero(valid)
    # ~850 fills of a few pixels each: the Python around each call cost more than the fill, so the polygons are
    # gathered in one go and the call is made with positional arguments.
    fill = cv2.fillConvexPoly
    for t, polygon in zip(ids.tolist(), local[triangles[ids]]):
        fill(triangle_index, polygon, t, cv2.LINE_8, 4)
    return triangle_index


def remap_coordinates(triangle_index: np.ndarray, affines: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps for `region` from per-triangle affines (target pixel -> source pixel); -1 off the mesh."""
    x0, y0 = region[0], region[1]
    height, width = triangle_index.shape
    # One row of coefficients per triangle plus a last one that yields -1, which index -1 picks: every pixel is
    # computed the same way, without gathering the covered ones first.
    table = np.empty((affines.shape[0] + 1, 6), np.float32)
    table[:-1] = affines.reshape(-1, 6)
    table[-1] = (0.0, 0.0, -1.0, 0.0, 0.0, -1.0)
    coefficients = table[triangle_index]  # (H, W, 6)
    gx = np.arange(x0, x0 + width, dtype=np.float32)[None, :]
    gy = np.arange(y0, y0 + height, dtype=np.float32)[:, None]
    map_x = coefficients[..., 0] * gx
    map_x += coefficients[..., 1] * gy
    map_x += coefficients[..., 2]
    map_y = coefficients[..., 3] * gx
    map_y += coefficients[..., 4] * gy
    map_y += coefficients[..., 5]
    return map_x, map_y


def warp_face(
    source_image: np.ndarray,
    source_points: np.ndarray,
    target_points: np.ndarray,
    triangles: np.ndarray,
    region: Region,
    triangle_index: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The source face drawn onto the target mesh inside `region`, and the mask of pixels the mesh covers.

    `triangle_index` (from `triangle_index_map` for the same target mesh and region) saves recomputing it."""
    affines, valid = triangle_affines(source_points, target_points, triangles)
    if triangle_index is None:
        triangle_index = triangle_index_map(target_points, triangles, valid, region)
    map_x, map_y = remap_coordinates(triangle_index, affines, region)
    warped = cv2.remap(source_image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, triangle_index >= 0


# A warp's coordinates are affine inside each mesh triangle, so on a large face they can be computed on a grid of
# k x k pixel cells and enlarged bilinearly (exact inside triangles, continuous across their edges): per-pixel
# work drops k² times. A cell stays a few pixels wide next to triangles tens of pixels wide.
GRID_FACE_PX = 160  # a face wider than this many grid cells gets coarser cells


@dataclass(frozen=True)
class MeshGrid:
    """Which mesh triangle covers each k x k cell of `region` (-1: none), for warps onto one target mesh."""

    region: Region
    cell: int  # k, pixels per cell side
    index: np.ndarray  # (ceil(H / k), ceil(W / k)) int32

    def maps(self, affines: np.ndarray, box: Region | None = None,
             identity_off_mesh: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps (absolute source pixels) over `box` (default: the whole region), from per-triangle
        affines. Off the mesh they are -1, or the pixel itself with `identity_off_mesh` (a warp that leaves
        everything off the mesh where it is)."""
        box = box or self.region
        k, (rx0, ry0) = self.cell, self.region[:2]
        # The cells that hold the box, in the grid, and where the first of them starts in pixels.
        cx0, cy0 = (box[0] - rx0) // k, (box[1] - ry0) // k
        cx1, cy1 = -(-(box[2] - rx0) // k), -(-(box[3] - ry0) // k)
        index = self.index[cy0:cy1, cx0:cx1]
        table = np.empty((affines.shape[0] + 1, 6), np.float32)
        table[:-1] = affines.reshape(-1, 6)
        table[-1] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0) if identity_off_mesh else (0.0, 0.0, -1.0, 0.0, 0.0, -1.0)
        coefficients = table[index]
        # A cell's value belongs to its centre pixel.
        gx = (rx0 + (np.arange(cx0, cx1, dtype=np.float32) + 0.5) * k - 0.5)[None, :]
        gy = (ry0 + (np.arange(cy0, cy1, dtype=np.float32) + 0.5) * k - 0.5)[:, None]
        map_x = coefficients[..., 0] * gx + coefficients[..., 1] * gy + coefficients[..., 2]
        map_y = coefficients[..., 3] * gx + coefficients[..., 4] * gy + coefficients[..., 5]
        if k > 1:
            size = (map_x.shape[1] * k, map_x.shape[0] * k)
            map_x = cv2.resize(map_x, size, interpolation=cv2.INTER_LINEAR)
            map_y = cv2.resize(map_y, size, interpolation=cv2.INTER_LINEAR)
        left, top = box[0] - (rx0 + cx0 * k), box[1] - (ry0 + cy0 * k)
        crop = (slice(top, top + box[3] - box[1]), slice(left, left + box[2] - box[0]))
        return map_x[crop], map_y[crop]

    def covered(self, box: Region, below: int | None = None) -> np.ndarray:
        """bool over `box`: which pixels the mesh covers (only triangles numbered below `below`, if given)."""
        k, (rx0, ry0) = self.cell, self.region[:2]
        rows = (np.arange(box[1], box[3]) - ry0) // k
        cols = (np.arange(box[0], box[2]) - rx0) // k
        index = self.index[rows[:, None], cols[None, :]]
        return (index >= 0) if below is None else (index >= 0) & (index < below)


def mesh_grid(points: np.ndarray, triangles: np.ndarray, region: Region, face_width: float) -> MeshGrid:
    """The triangle index of `points`' mesh over `region`, on cells sized for a face `face_width` px wide."""
    k = max(1, int(face_width // GRID_FACE_PX))
    x0, y0, x1, y1 = region
    cells = (-(-(x1 - x0) // k), -(-(y1 - y0) // k))
    # Cell centres sit at pixel x0 + (i + 0.5) k - 0.5: the points in cell units are shifted to match.
    local = (points - (x0, y0) + 0.5) / k - 0.5
    index = triangle_index_map(local, triangles, nondegenerate(points, triangles), (0, 0, cells[0], cells[1]))
    return MeshGrid(region, k, index)
