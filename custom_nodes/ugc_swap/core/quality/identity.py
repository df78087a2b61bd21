"""Face identity as dlib's 128-d embedding (CC0 weights from face_recognition_models).

Euclidean distance below 0.6 means "same person" by dlib's own calibration. Faces are aligned with dlib's 5-point
model, the one its face-recognition network was trained with (and a tenth of the 68-point model's 100 MB).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .rule import SAME_PERSON_DISTANCE  # noqa: F401  (re-exported: the distance dlib calls one person)
# dlib's HOG detector finds faces from about 80 px wide; faces are brought to about this width before detection.
_DETECT_FACE_PX = 120
_DETECT_LONG_SIDE = 640  # a whole photo is searched at most this large


def _model_file(name: str) -> str:
    # Located without importing face_recognition_models, whose __init__ needs the deprecated pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "models" / name)


@lru_cache(maxsize=1)
def _models():
    import dlib

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(_model_file("shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(_model_file("dlib_face_recognition_resnet_model_v1.dat")),
    )


def _resized(rgb: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 1e-3:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def face_embedding(rgb: np.ndarray, face_width: float | None = None) -> np.ndarray | None:
    """Embedding of the largest face dlib finds in `rgb`, or None when it finds none.

    `face_width` (px, when known, e.g. a crop around a face the swap tracked) lets the search run at the scale
    where dlib's detector works best; without it a photo is searched at up to 640 px, upsampled once."""
    import dlib

    detector, predictor, encoder = _models()
    if face_width:
        image = _resized(rgb, _DETECT_FACE_PX / face_width)
        faces = detector(image, 0) or detector(image, 1)
    else:
        image = _resized(rgb, min(1.0, _DETECT_LONG_SIDE / max(rgb.shape[:2])))
        faces = detector(image, 1)
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    chip = dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25)
    return np.array(encoder.compute_face_descriptor(chip))


def face_found(rgb: np.ndarray, face_width: float) -> bool:
    """Whether dlib's own detector also sees a face in `rgb` (a crop around a face about `face_width` px wide):
    a second opinion from a detector that works nothing like mediapipe's."""
    detector, _, _ = _models()
    image = _resized(rgb, _DETECT_FACE_PX / max(face_width, 1.0))
    return bool(detector(image, 0) or detector(image, 1))


def release_models() -> None:
    """Let dlib's models go (~30 MB): a worker holds them only while a job's quality is judged, not through the
    next job's swap, where its memory peaks."""
    _models.cache_clear()


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))
