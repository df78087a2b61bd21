"""Hands near the face, from mediapipe's hand landmark model (inside the wheel, Apache-2.0).

The model runs on a small crop around the face (a hand only matters where it can cover the face) and only every
few frames; in between, the last hands are reused, grown a little more per frame of age to cover how far a hand
can have moved. The appearance check of `occlusion.py` catches a hand's leading edge between two runs.
"""

from __future__ import annotations

import cv2
import numpy as np

from .resample import shrink
from .warp import Region

_CROP_GROW = 0.8  # the crop reaches this share of the face box beyond each side of it
_CROP_SIDE = 192  # the hand model's own input size: a larger crop would only be scaled down again inside it
_RUN_EVERY = 3  # frames; 10 ms per run on one core is too much for every frame of a 30 fps budget
_GROW = 0.12  # of the hand's size: fingertips and knuckles stick out of the landmark hull
_GROW_PER_FRAME = 0.06  # extra growth per frame since the last run


class HandFinder:
    """Hands (as filled hulls) near one face, frame after frame; holds one mediapipe model (not thread-safe)."""

    def __init__(self) -> None:
        from mediapipe.python.solutions import hands

        # Tracking mode: after a hand is found the palm detector is skipped while the landmark model follows it.
        self._model = hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=0,
                                  min_detection_confidence=0.5, min_tracking_confidence=0.5)
        self._hulls: list[np.ndarray] = []  # (K, 2) frame pixels
        self._age = _RUN_EVERY

    def close(self) -> None:
        self._model.close()

    def __enter__(self) -> HandFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def mask(self, frame: np.ndarray, region: Region) -> np.ndarray | None:
        """uint8 mask over `region` of hands in front of it (255), or None when no hand is near."""
        if self._age >= _RUN_EVERY:
            self._hulls = self._find(frame, region)
            self._age = 0
        else:
            self._age += 1
        if not self._hulls:
            return None
        x0, y0, x1, y1 = region
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for hull in self._hulls:
            centre = hull.mean(axis=0)
            grown = (hull - centre) * (1 + _GROW + _GROW_PER_FRAME * self._age) + centre
            cv2.fillConvexPoly(mask, np.round(grown - (x0, y0)).astype(np.int32), 255)
        return mask if mask.any() else None

    def _find(self, frame: np.ndarray, region: Region) -> list[np.ndarray]:
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = region
        grow_x, grow_y = _CROP_GROW * (x1 - x0), _CROP_GROW * (y1 - y0)
        cx0, cy0 = max(0, int(x0 - grow_x)), max(0, int(y0 - grow_y))
        cx1, cy1 = min(width, int(x1 + grow_x)), min(height, int(y1 + grow_y))
        crop = frame[cy0:cy1, cx0:cx1]
        scale = min(1.0, _CROP_SIDE / max(crop.shape[:2]))
        small = crop if scale == 1.0 else \
            shrink(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))))
        found = self._model.process(np.ascontiguousarray(small)).multi_hand_landmarks or []
        hulls = []
        for hand in found:
            points = np.array([(p.x * small.shape[1], p.y * small.shape[0]) for p in hand.landmark], np.float32)
            points = (points / scale + (cx0, cy0)).astype(np.float32)
            hulls.append(cv2.convexHull(points).reshape(-1, 2))
        return hulls
