"""The one face that matters: the avatar photo's only face, and the filmed main face frame by frame.

Both engines start from these, so an avatar is accepted or refused the same way whichever engine runs.
"""

from __future__ import annotations

import numpy as np

from ..errors import AvatarImageError, AvatarMultipleFacesError, AvatarNoFaceError
from .avatar_quality import AvatarQuality, check_avatar
from .head_turn import yaw_degrees
from .landmarks import FaceAnalyzer, face_box
from .tracking import FOLLOW_IOU, MainFaceTracker, box_iou

# A second face counts as "another person" in the avatar photo when it is at least this share of the main face's width.
_SECOND_FACE_SHARE = 0.35
# Between two frames the main face's box moves little: a mesh fitted at the last box that lands farther off than
# this (overlap) found something else, and the detector decides.
_MESH_FOLLOW_IOU = 0.5
# ... and only a face within this many degrees of frontal is followed that way: towards profile the mesh depends on
# where its crop sits, and the detector's box (centred on what is visible of the face) gives the better fit there.
_MESH_FOLLOW_YAW = 20.0
# A filmed face narrower than this (px, mesh width) is left as filmed: its eyes and mouth are two or three pixels,
# the mesh is guesswork there and a swap cannot be seen; the coverage report names such faces with their size.
MIN_FACE_PX = 16.0


def avatar_face_points(avatar_rgb: np.ndarray, min_confidence: float) -> np.ndarray:
    """Mesh points (468, 3) of the avatar photo's single face; an AvatarImageError says why a photo is refused.

    Whether the face is good enough for a swap (its size, sharpness, turn, ...) is the gate's to say (see
    avatar_quality.py); both engines run it through `checked_avatar`."""
    if avatar_rgb.ndim != 3 or avatar_rgb.shape[2] != 3 or avatar_rgb.dtype != np.uint8:
        raise AvatarImageError(f"avatar must be an RGB image, got array {avatar_rgb.shape} {avatar_rgb.dtype}")
    with FaceAnalyzer(min_confidence) as analyzer:
        faces = sorted(analyzer.detect(avatar_rgb), key=lambda f: f.box[2] - f.box[0], reverse=True)
        if not faces:
            raise AvatarNoFaceError("no face found in the avatar photo; use a clear, front-facing photo of one person")
        main_width = faces[0].box[2] - faces[0].box[0]
        others = [f for f in faces[1:] if f.box[2] - f.box[0] >= _SECOND_FACE_SHARE * main_width]
        if others:
            raise AvatarMultipleFacesError(f"the avatar photo shows {len(others) + 1} faces; it must show exactly one person")
        points = analyzer.landmarks(avatar_rgb, faces[0].box)
    if points is None:
        raise AvatarNoFaceError("a face was detected in the avatar photo but its features could not be located")
    return points


def main_face_points(analyzer: FaceAnalyzer, tracker: MainFaceTracker, frame: np.ndarray) -> np.ndarray | None:
    """Mesh points of the tracked main face in this frame, or None when it is not visible."""
    points = _follow_by_mesh(analyzer, tracker, frame)
    if points is None:
        points = _detect_and_fit(analyzer, tracker, frame)
    if points is not None:
        tracker.mesh_may_follow(abs(yaw_degrees(points)) <= _MESH_FOLLOW_YAW)
    return points


def _detect_and_fit(analyzer: FaceAnalyzer, tracker: MainFaceTracker, frame: np.ndarray) -> np.ndarray | None:
    """The detector finds the main face (or the mesh is fitted where it was, through a brief dropout)."""
    detections = analyzer.detect(frame, tiles=False)
    followed = tracker.box
    if followed is None or not any(box_iou(d.box, followed) >= FOLLOW_IOU for d in detections):
        # The face being followed (or, before one is, any small one) may be too small for a whole-frame search.
        detections = analyzer.with_quarters(frame, detections)
    chosen = tracker.choose([(d.box, d.score) for d in detections], frame)
    if chosen is not None:
        return analyzer.landmarks(frame, detections[chosen].box)
    coast = tracker.coast_box()
    points = analyzer.landmarks(frame, coast) if coast is not None else None
    if points is not None:
        tracker.found_by_coasting()
    return points


def _follow_by_mesh(analyzer: FaceAnalyzer, tracker: MainFaceTracker, frame: np.ndarray) -> np.ndarray | None:
    """The main face's mesh fitted where it was in the last frame, skipping detection; None when detection is due
    or the mesh did not find the same face there (gone, or another face in the crop)."""
    box = tracker.mesh_box()
    points = analyzer.landmarks(frame, box) if box is not None else None
    if points is None:
        return None
    found = face_box(points)
    if box_iou(found, box) < _MESH_FOLLOW_IOU:
        return None
    tracker.found_by_mesh(found)
    return points


def checked_avatar(avatar_rgb: np.ndarray, min_confidence: float) -> tuple[np.ndarray, AvatarQuality]:
    """The avatar's mesh and the gate's verdict on it; AvatarImageError (avatar_no_face, avatar_multiple_faces,
    avatar_low_quality) when the photo cannot give a good swap."""
    points = avatar_face_points(avatar_rgb, min_confidence)
    return points, check_avatar(avatar_rgb, points)
