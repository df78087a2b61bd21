"""Who gets the customer's face when the footage shows several people.

- `main`: the most prominent face (large, confident, central), chosen afresh in every shot and held through it;
- `reference`: the person to replace, known by a face embedding (dlib's, as the identity check uses) taken from a
  photo of them or from a moment of the source where they are clearly visible. In every shot a face is followed
  only once it matches that person, so other people, and B-roll of other people, stay as filmed;
- `all`: every face.
"""

from __future__ import annotations

import numpy as np

from ..errors import UgcSwapError
from ..quality.identity import face_embedding, face_found, identity_distance
from ..engines.base import TARGET_MODES, FaceTarget
from ..quality.rule import SAME_PERSON_DISTANCE
from ..video.video_probe import VideoInfo
from ..video.video_stream import FrameReader
from .landmarks import FaceAnalyzer
from .tracking import Box, Picker, prominence

# While nobody in the picture matches the reference, faces are compared only this often (frames): each comparison
# costs a dlib embedding per face.
_REFERENCE_RETRY_FRAMES = 5
# A detection this confident starts a track on its own; below it, dlib's detector must agree (is_a_face).
SURE_FACE_SCORE = 0.88
# Faces are cut out with this much room around the detector's box for dlib's own detector to find them again.
_CROP_ROOM = 0.5


class TargetFaceError(UgcSwapError):
    code = "target_not_found"


def target_from_photo(photo_rgb: np.ndarray) -> FaceTarget:
    """`reference` mode from a photo of the person to replace (its largest face)."""
    embedding = face_embedding(photo_rgb)
    if embedding is None:
        raise TargetFaceError("target_face_url: no face found in the photo of the person to replace")
    return FaceTarget("reference", tuple(float(v) for v in embedding))


def target_from_frame(frame_rgb: np.ndarray, at_s: float, min_confidence: float = 0.5) -> FaceTarget:
    """`reference` mode from the source frame at `at_s`: its most prominent face is the person to replace."""
    height, width = frame_rgb.shape[:2]
    with FaceAnalyzer(min_confidence) as analyzer:
        faces = analyzer.detect(frame_rgb)
    if not faces:
        raise TargetFaceError(f"target_face_at_s: no face at {at_s:g} s in the source video; give a time where the "
                              "person to replace is clearly visible")
    best = max(faces, key=lambda f: prominence(f.box, f.score, (width, height)))
    embedding = _embedding_of(frame_rgb, best.box)
    if embedding is None:
        raise TargetFaceError(f"target_face_at_s: the face at {at_s:g} s is too small or unclear to recognise "
                              "the person by; give a time where they are larger or facing the camera")
    return FaceTarget("reference", tuple(float(v) for v in embedding))


def _around(frame_rgb: np.ndarray, box: Box) -> np.ndarray | None:
    x0, y0, x1, y1 = box
    room = _CROP_ROOM * max(x1 - x0, y1 - y0)
    height, width = frame_rgb.shape[:2]
    left, top = max(0, int(x0 - room)), max(0, int(y0 - room))
    right, bottom = min(width, int(x1 + room)), min(height, int(y1 + room))
    if right - left < 8 or bottom - top < 8:
        return None
    return np.ascontiguousarray(frame_rgb[top:bottom, left:right])


def _embedding_of(frame_rgb: np.ndarray, box: Box) -> np.ndarray | None:
    crop = _around(frame_rgb, box)
    return face_embedding(crop, box[2] - box[0]) if crop is not None else None


def is_a_face(frame_rgb: np.ndarray, box: Box, score: float) -> bool:
    """Whether a detection may start a track: sure of itself, or confirmed by dlib's detector. mediapipe finds
    faces in product shots (the nose cone of a rocket, a logo) at scores real faces also have (0.7-0.85), and a
    swap there pastes the customer's face onto the product."""
    if score >= SURE_FACE_SCORE:
        return True
    crop = _around(frame_rgb, box)
    return crop is not None and face_found(crop, box[2] - box[0])


class ReferencePicker:
    """Which of a frame's detections is the reference person (None: nobody here is)."""

    def __init__(self, reference: tuple[float, ...]) -> None:
        self.reference = np.asarray(reference)
        self._wait = 0

    def __call__(self, frame_rgb: np.ndarray, detections: list[tuple[Box, float]]) -> int | None:
        if not detections or self._wait > 0:
            self._wait = max(0, self._wait - 1)
            return None
        distances = []
        for box, _ in detections:
            embedding = _embedding_of(frame_rgb, box)
            distances.append(identity_distance(embedding, self.reference) if embedding is not None else np.inf)
        best = int(np.argmin(distances))
        if distances[best] < SAME_PERSON_DISTANCE:
            return best
        self._wait = _REFERENCE_RETRY_FRAMES - 1
        return None


def picker_for(target: FaceTarget) -> Picker | None:
    """How a new track picks its face (None: the most prominent one)."""
    if target.mode == "reference" and target.reference is not None:
        return ReferencePicker(target.reference)
    return None


def resolve_target(mode: str, photo_rgb: np.ndarray | None, at_s: float | None, source: VideoInfo) -> FaceTarget:
    """The target a node's inputs describe: `mode`, and for `reference` a photo of the person or a time (s) in the
    source where they are clearly visible (the photo wins when both are given)."""
    if mode not in TARGET_MODES:
        raise TargetFaceError(f"target must be one of {', '.join(TARGET_MODES)}, got {mode!r}")
    if mode != "reference":
        return FaceTarget(mode)  # type: ignore[arg-type]
    if photo_rgb is not None:
        return target_from_photo(photo_rgb)
    if at_s is None or at_s < 0:
        raise TargetFaceError("target 'reference' needs the person to replace: a photo (target_face_url) or a time "
                              "in the source where they are clearly visible (target_face_at_s)")
    if at_s >= source.duration_s:
        raise TargetFaceError(f"target_face_at_s: {at_s:g} s is past the end of the {source.duration_s:.1f} s video")
    index = min(source.frame_count - 1, int(at_s * source.fps))
    frame = next(iter(FrameReader(source, index, index + 1)))
    return target_from_frame(frame, at_s)
