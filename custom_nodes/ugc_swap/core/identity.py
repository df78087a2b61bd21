"""Face identity as dlib's 128-d embedding (CC0 weights from face_recognition_models).

Euclidean distance below 0.6 means "same person" by dlib's own calibration. Used by tests now and by the
per-job quality report, to tell whether a swapped face looks like the customer.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

SAME_PERSON_DISTANCE = 0.6


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
        dlib.shape_predictor(_model_file("shape_predictor_68_face_landmarks.dat")),
        dlib.face_recognition_model_v1(_model_file("dlib_face_recognition_resnet_model_v1.dat")),
    )


def face_embedding(rgb: np.ndarray, region: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """Embedding of the largest face (inside `region` x0, y0, x1, y1 if given), or None when dlib finds none."""
    import dlib

    detector, predictor, encoder = _models()
    image = np.ascontiguousarray(rgb if region is None else rgb[region[1] : region[3], region[0] : region[2]])
    faces = detector(image, 1)
    if not faces:
        return None
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(image, face)
    return np.array(encoder.compute_face_descriptor(image, shape, 1))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))
