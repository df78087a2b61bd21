"""Target `all`: every face in the picture gets a lane of its own, one engine swap following one face.

Lanes run in turn over each frame (each draws on the picture the lanes before it left). A face no lane holds is
given a new lane when it appears; a lane whose face has been gone a while is closed; at a shot cut every lane
closes and the new shot's faces get fresh ones, so nothing of one shot carries into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..engines.base import BY_DESIGN, SwappedFrame
from ..video.shot_cuts import ShotCuts
from .landmarks import FaceAnalyzer
from .target import is_a_face
from .tracking import Box, MainFaceTracker, Picker, box_iou, prominence

MAX_LANES = 8  # each lane holds its own face models: a crowd beyond this keeps its other faces as filmed
# A face that overlaps a lane's face this much is that lane's.
_HELD_IOU = 0.25
# New faces are looked for this often (frames), and on the first frame of every shot.
_LOOK_EVERY = 5
# A lane whose face has been missing this long is closed (its face left the picture).
_CLOSE_AFTER = 45


class Lane(Protocol):
    tracker: MainFaceTracker | None
    skipped: str | None
    face_px: float

    def frame(self, index: int, frame: np.ndarray, wired: np.ndarray | None) -> SwappedFrame: ...

    def close(self) -> None: ...


class AllFaces:
    """The `all` target's per-frame work; `new_lane(pick)` makes one lane that follows the face `pick` chooses."""

    def __init__(self, new_lane: Callable[[Picker], Lane], min_confidence: float) -> None:
        self.new_lane = new_lane
        self.lanes: list[Lane] = []
        self._missing: list[int] = []  # frames each lane's face has been missing
        self.cuts = ShotCuts()
        self.analyzer = FaceAnalyzer(min_confidence)
        self.shots = 1
        self.skipped: str | None = None
        self.face_px = 0.0

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
        self.lanes, self._missing = [], []
        self.analyzer.close()

    def frame(self, index: int, frame: np.ndarray, wired: np.ndarray | None) -> SwappedFrame:
        new_shot = self.cuts.new_shot(frame) and index > 0
        if new_shot:
            for lane in self.lanes:
                lane.close()
            self.lanes, self._missing = [], []
            self.shots += 1
        if (new_shot or index % _LOOK_EVERY == 0 or not self.lanes) and len(self.lanes) < MAX_LANES:
            self._open_lanes(frame)
        out, visible, reasons = frame, None, []
        for number, lane in enumerate(self.lanes):
            swapped = lane.frame(index, out, wired)
            out = swapped.image
            if swapped.visible is not None:
                visible = swapped.visible if visible is None else np.maximum(visible, swapped.visible)
            reasons.append(lane.skipped)
            if lane.skipped == "too_small":
                self.face_px = lane.face_px
            self._missing[number] = 0 if swapped.visible is not None else self._missing[number] + 1
        self._close_lost()
        if any(r is None for r in reasons) or any(r in BY_DESIGN for r in reasons):
            self.skipped = None if any(r is None for r in reasons) else next(r for r in reasons if r in BY_DESIGN)
        else:
            self.skipped = "dissolve" if self.cuts.in_transition else (reasons[0] if reasons else "no_face")
        return SwappedFrame(out, visible)

    def _held(self, besides: list[Lane] | None = None) -> list[Box]:
        """Where the lanes' faces are (leaving out the lanes in `besides`)."""
        return [lane.tracker.box for lane in self.lanes if lane not in (besides or [])
                and lane.tracker is not None and lane.tracker.box is not None]

    def _open_lanes(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        held = self._held()
        free = [d for d in self.analyzer.detect(frame, tiles=True) if all(box_iou(d.box, h) < _HELD_IOU for h in held)
                and is_a_face(frame, d.box, d.score)]
        free.sort(key=lambda d: -prominence(d.box, d.score, (width, height)))
        for detection in free[:MAX_LANES - len(self.lanes)]:
            owner: list[Lane] = []
            owner.append(self.new_lane(self._picker(detection.box, owner)))
            self.lanes.append(owner[0])
            self._missing.append(0)

    def _picker(self, first: Box, owner: list[Lane]) -> Picker:
        """A lane's choice: the face it was opened for, then (once lost) the most prominent face no other lane
        holds."""
        claim: list[Box | None] = [first]

        def pick(frame: np.ndarray, detections: list[tuple[Box, float]]) -> int | None:
            height, width = frame.shape[:2]
            if claim[0] is not None:
                overlaps = [box_iou(box, claim[0]) for box, _ in detections]
                claim[0] = None
                best = int(np.argmax(overlaps)) if overlaps else None
                return best if best is not None and overlaps[best] >= _HELD_IOU else None
            others = self._held(besides=owner)
            free = [i for i, (box, score) in enumerate(detections)
                    if all(box_iou(box, h) < _HELD_IOU for h in others) and is_a_face(frame, box, score)]
            return max(free, key=lambda i: prominence(*detections[i], (width, height)), default=None)

        return pick

    def _close_lost(self) -> None:
        keep = [i for i, missing in enumerate(self._missing) if missing <= _CLOSE_AFTER]
        for i, lane in enumerate(self.lanes):
            if i not in keep:
                lane.close()
        self.lanes = [self.lanes[i] for i in keep]
        self._missing = [self._missing[i] for i in keep]
