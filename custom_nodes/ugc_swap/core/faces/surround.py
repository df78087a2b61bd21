"""The head and background around a reshaped face, following its new outline with a smooth warp.

When the swapped face takes the customer's proportions its outline moves (a longer chin, narrower cheeks). The
filmed frame is then warped as a mesh extended beyond the face: the face mesh itself maps new positions to filmed
ones exactly (so the filmed mouth interior and the skin at the edge land where the new face has them), and rings
of triangles around the outline carry the outline's shift out to a fixed ring a small margin outside the head,
fading it smoothly. Beyond that ring nothing moves, and nothing tears: the warp is continuous everywhere.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .landmarks import MESH_POINTS, face_outline

MARGIN = 0.25  # of the face width: how far beyond the outline the warp fades to nothing
# Rings between the outline and the fixed outer ring, as a share of the way out, and how much of the outline's
# shift each keeps: a smoothstep, so the shift fades without a kink at the outline or at the outer ring.
_RING_STEPS = (1 / 3, 2 / 3, 1.0)
_RING_KEEP = tuple(1 - t * t * (3 - 2 * t) for t in _RING_STEPS)


@lru_cache(maxsize=1)
def surround_triangles() -> np.ndarray:
    """(T, 3) triangles of the rings around the face outline, indexing the extended point arrays."""
    outline = np.array(face_outline())
    count = outline.size
    rings = [outline] + [MESH_POINTS + k * count + np.arange(count) for k in range(len(_RING_STEPS))]
    triangles = []
    for inner, outer in zip(rings, rings[1:]):
        for j in range(count):
            a, b = inner[j], inner[(j + 1) % count]
            c, d = outer[j], outer[(j + 1) % count]
            triangles += [(a, b, c), (b, d, c)]
    return np.array(triangles, np.int32)


def extended_meshes(filmed: np.ndarray, reshaped: np.ndarray, face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """The filmed and the reshaped mesh (each (468, 2)), each with the rings around its outline appended.

    The outer ring lies MARGIN face widths outside the filmed outline and is the same in both, so the warp from
    one to the other is the identity there and beyond."""
    outline = np.array(face_outline())
    inner_filmed, inner_reshaped = filmed[outline], reshaped[outline]
    centre = inner_filmed.mean(axis=0)
    outward = inner_filmed - centre
    outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-6)
    outer = inner_filmed + MARGIN * face_width * outward
    shift = inner_reshaped - inner_filmed
    filmed_rings = [inner_filmed + t * (outer - inner_filmed) for t in _RING_STEPS]
    reshaped_rings = [ring + keep * shift for ring, keep in zip(filmed_rings, _RING_KEEP)]
    return np.vstack([filmed, *filmed_rings]), np.vstack([reshaped, *reshaped_rings])

