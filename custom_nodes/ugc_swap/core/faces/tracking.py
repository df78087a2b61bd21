"""Following one main face through a video that may show several people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
# Which of a frame's (box, score) detections starts a track, None for none of them (faces/target.py).
Picker = Callable[[np.ndarray, list[tuple[Box, float]]], "int | None"]
# Whether a detection (frame, box, score) is a face at all, before a track starts on it (faces/target.py).
Confirm = Callable[[np.ndarray, Box, float], bool]

# A detection continues the track when it overlaps the last known box at least this much.
FOLLOW_IOU = 0.25
# After this many frames without the main face, the track is dropped and the most prominent face is taken.
_MAX_LOST_FRAMES = 45
# For this many frames a missed detection is bridged by fitting the mesh where the face was last seen.
_COAST_FRAMES = 6
# While the mesh keeps finding the face where it was in the last frame, the detector is run only this often: enough
# to keep the track's box honest, and the whole-frame detection is the largest single cost of a frame.
_REDETECT_EVERY = 10


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def prominence(box: Box, score: float, frame_size: tuple[int, int]) -> float:
    """How likely a face is the subject: big, confident and near the centre of the frame."""
    width, height = frame_size
    cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
    off_centre = ((cx - 0.5) ** 2 + (cy - 0.5) ** 2) ** 0.5
    return box_area(box) * score * (1.0 - 0.5 * min(off_centre, 1.0))


@dataclass
class MainFaceTracker:
    """Picks the most prominent face once (or the one `pick` recognises), then follows it by overlap; other faces
    are ignored."""

    frame_size: tuple[int, int]
    # Recognises the person to follow; while set, a lost track may be taken up again at once (no other person can
    # be picked by mistake), where the prominence choice waits in case the main face comes back.
    pick: Picker | None = None
    confirm: Confirm | None = None  # asked before a track starts on the most prominent face
    _last_box: Box | None = field(default=None, init=False)
    _lost_frames: int = field(default=0, init=False)
    _mesh_frames: int = field(default=0, init=False)  # frames followed by the mesh alone since the last detection
    _mesh_may_follow: bool = field(default=False, init=False)

    def choose(self, detections: list[tuple[Box, float]], frame: np.ndarray) -> int | None:
        """Index of the main face among this frame's (box, score) detections, or None if it is not visible."""
        if self._last_box is not None:
            overlaps = [box_iou(self._last_box, box) for box, _ in detections]
            best = max(range(len(detections)), key=overlaps.__getitem__, default=None)
            if best is not None and overlaps[best] >= FOLLOW_IOU:
                return self._follow(detections[best][0], best)
            self._lost_frames += 1
            if self._lost_frames <= _MAX_LOST_FRAMES and self.pick is None:
                return None
        if not detections:
            return None
        if self.pick is not None:
            best = self.pick(frame, detections)
            return None if best is None else self._follow(detections[best][0], best)
        ranked = sorted(range(len(detections)), key=lambda i: -prominence(*detections[i], self.frame_size))
        best = next((i for i in ranked if self.confirm is None or self.confirm(frame, *detections[i])), None)
        return None if best is None else self._follow(detections[best][0], best)

    @property
    def box(self) -> Box | None:
        """Where the followed face was last seen."""
        return self._last_box

    def coast_box(self) -> Box | None:
        """Where to look for the main face when the detector missed it in this frame (a brief dropout)."""
        return self._last_box if self._last_box is not None and 0 < self._lost_frames <= _COAST_FRAMES else None

    def mesh_box(self) -> Box | None:
        """Where to fit the mesh without running the detector in this frame, or None when detection is due (the
        face was not followed in the last frame, or has been followed by the mesh alone for a while)."""
        if self._last_box is None or self._lost_frames > 0 or not self._mesh_may_follow or \
                self._mesh_frames >= _REDETECT_EVERY:
            return None
        return self._last_box

    def mesh_may_follow(self, allowed: bool) -> None:
        """Whether the face just found may be followed by the mesh alone in the next frame (it is near frontal)."""
        self._mesh_may_follow = allowed

    def found_by_mesh(self, box: Box) -> None:
        """The mesh found the face near `mesh_box()`: `box` (detector-like, from the mesh) is the track's box now."""
        self._last_box = box
        self._mesh_frames += 1

    def found_by_coasting(self) -> None:
        """The mesh found the face at the coasted box: the track goes on as if it had been detected."""
        self._lost_frames = 0

    def _follow(self, box: Box, index: int) -> int:
        self._last_box, self._lost_frames, self._mesh_frames = box, 0, 0
        return index
