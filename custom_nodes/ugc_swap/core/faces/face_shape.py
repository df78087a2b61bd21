"""The customer's face shape on the filmed face: identity from the avatar's proportions, pose and expression from
the filmed frame.

Painting the avatar's skin onto the filmed person's mesh keeps the filmed person's proportions (face length and
width, jaw, nose, eye spacing, mouth width), and a face recognizer, like a viewer, then sees someone halfway
between the two people. Here both meshes are brought into one frame (the avatar's own, with each head's 3-D pose
taken out, see head_pose.py); the difference between the avatar's shape and the filmed person's resting shape is
the identity to add, turned back into the filmed pose and added to the filmed mesh of every frame. Expression is
not identity, so it is kept out of the difference:
- both shapes are compared with the mouth closed (a jaw drop is undone from the lower face), so an avatar smiling
  with open lips does not open the filmed mouth, and a filmed person talking keeps every word;
- eyes and lips move and widen with the avatar's, but their opening stays the filmed one's (a blink, a word);
- the filmed person's resting shape is the running mean of their shape in this shot, so their expression at any
  moment is what differs from it and is kept.
The difference is smoothed over the mesh (mediapipe's per-person noise is local; proportions are not) and
limited, so a mesh that went wrong on one photo cannot pull a face apart.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .head_pose import fit_head_pose

UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
NOSE_TIP = 1
# Neighbour-averaging passes over the mesh applied to the shape difference: ~2 mesh rings of smoothing.
_SMOOTHING_PASSES = 4
# No point moves further than this share of the face width: beyond it the mesh, not the person, differs.
_MAX_SHIFT = 0.12


@lru_cache(maxsize=1)
def _regions() -> dict[str, np.ndarray]:
    from mediapipe.python.solutions import face_mesh_connections as mesh

    def ids(*connections) -> np.ndarray:
        return np.array(sorted({i for connection in connections for edge in connection for i in edge}))

    return {"right_eye": ids(mesh.FACEMESH_RIGHT_EYE), "left_eye": ids(mesh.FACEMESH_LEFT_EYE),
            "lips": ids(mesh.FACEMESH_LIPS)}


@lru_cache(maxsize=1)
def _neighbour_average() -> np.ndarray:
    """(468, 468) row-stochastic matrix: each point's mean with its mesh neighbours."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    count = 468
    matrix = np.eye(count)
    for a, b in FACEMESH_TESSELATION:
        matrix[a, b] = matrix[b, a] = 1.0
    return matrix / matrix.sum(axis=1, keepdims=True)


def _pose_points(points: np.ndarray) -> np.ndarray:
    """Indices of the points that move with the skull, not with expression: above the nose tip, off the eyes."""
    moving = np.concatenate([_regions()["right_eye"], _regions()["left_eye"]])
    upper = np.flatnonzero(points[:, 1] <= points[NOSE_TIP, 1])
    return np.setdiff1d(upper, moving)


# The inner lips' contour split into the lower lip's points and the upper lip's (the corners, 78 and 308, in neither).
_LOWER_INNER = (95, 88, 178, 87, 14, 317, 402, 318, 324)
_UPPER_INNER = (415, 310, 311, 312, 13, 82, 81, 80, 191)


def jaw_weights(shape: np.ndarray) -> np.ndarray:
    """How much each point moves with the jaw, 0..1: the lower lip and everything below the mouth fully, the upper
    lip and everything above not at all, the corners half. The lips are told apart by which lip they are, not by
    height: on a closed mouth the mesh may put the lower lip a hair above the upper one."""
    mouth_line = float(shape[list(_LOWER_INNER + _UPPER_INNER), 1].mean())
    reach = 0.04 * float(np.ptp(shape[:, 1]))
    weights = np.clip((shape[:, 1] - mouth_line) / reach, 0.0, 1.0)
    weights[list(_LOWER_INNER)] = 1.0
    weights[list(_UPPER_INNER)] = 0.0
    weights[[78, 308]] = 0.5
    return weights


def closed_mouth(shape: np.ndarray) -> np.ndarray:
    """`shape` (reference frame, y down) with any jaw drop undone: the lower face raised by the lips' opening."""
    gap = shape[LOWER_INNER_LIP] - shape[UPPER_INNER_LIP]
    if gap[1] <= 0:
        return shape
    return shape - jaw_weights(shape)[:, None] * gap


def _opening_kept(difference: np.ndarray, resting: np.ndarray, avatar: np.ndarray) -> np.ndarray:
    """Eyes and lips take the avatar's position and width only: each region's difference becomes the shift of
    its centre plus its horizontal stretch, so how open it is stays the filmed face's."""
    kept = difference.copy()
    for ids in _regions().values():
        filmed_part, avatar_part = resting[ids], avatar[ids]
        centre_f, centre_a = filmed_part.mean(axis=0), avatar_part.mean(axis=0)
        stretch = np.ptp(avatar_part[:, 0]) / max(np.ptp(filmed_part[:, 0]), 1e-6)
        moved = filmed_part - centre_f
        moved[:, 0] *= stretch
        kept[ids] = centre_a + moved - filmed_part
    return kept


class ShapeTransfer:
    """Per frame, the displacement (N, 2 image pixels) that gives the filmed mesh the avatar's proportions.

    One per shot: `reset` when the face is lost or the shot changes, since the resting shape is learnt anew."""

    def __init__(self, avatar_points: np.ndarray) -> None:
        avatar = avatar_points[:, :3].astype(np.float64)
        self._reference = avatar - avatar.mean(axis=0)
        self._pose_ids = _pose_points(self._reference)
        self._avatar = closed_mouth(self._reference)
        self._width = float(np.ptp(self._reference[:, 0]))
        self.reset()

    def reset(self) -> None:
        self._resting_sum = np.zeros_like(self._reference)
        self._frames = 0

    def __call__(self, filmed_points: np.ndarray) -> np.ndarray:
        filmed = filmed_points[:, :3].astype(np.float64)
        pose = fit_head_pose(self._reference[self._pose_ids], filmed[self._pose_ids])
        self._resting_sum += closed_mouth(pose.invert(filmed))
        self._frames += 1
        resting = self._resting_sum / self._frames
        difference = _opening_kept(self._avatar - resting, resting, self._avatar)
        smooth = _neighbour_average()
        for _ in range(_SMOOTHING_PASSES):
            difference = smooth @ difference
        length = np.linalg.norm(difference, axis=1, keepdims=True)
        limit = _MAX_SHIFT * self._width
        difference *= np.minimum(1.0, limit / np.maximum(length, 1e-9))
        return pose.turn(difference)[:, :2]
