"""Where edited footage changes shot, found frame by frame on the frames the swap already has in hand.

Hard cuts come from PySceneDetect's content detector (the change of hue, saturation and brightness between
consecutive frames; its default threshold). A short dissolve never makes one large step: it shows as a run of
moderately changed frames, well above the shot's own motion, that ends once the new shot stands alone; it counts
as a new shot at that first clean frame when the picture before the run and after it differ as much as at a hard
cut. Why this detector and not ffmpeg's scene score: docs/shot_cuts.md (bench/shot_cuts.py).

A cut is reported on the first frame of the new shot, with no look-ahead, so a swap can start the new shot from
scratch on that very frame.
"""

from __future__ import annotations

import statistics
from collections import deque

import cv2
import numpy as np
from scenedetect.detectors import ContentDetector
from scenedetect.stats_manager import StatsManager

HARD_CUT_SCORE = 27.0  # PySceneDetect's default content threshold
# Frames are judged small: the score is a mean over pixels, and at this width a 1080p frame costs ~0.4 ms.
_ANALYSIS_WIDTH = 160
# A frame is "moving more than the shot does" above this many times the shot's recent median score, and never
# below the floor (a still shot's scores are ~1: a small gesture must not start a run).
_RUN_OVER_BASELINE = 3.0
_RUN_FLOOR = 9.0
_BASELINE_FRAMES = 15
# A dissolve lasts from a few frames to about a second; a longer run of raised scores is motion (a pan, a whip).
_MIN_DISSOLVE_FRAMES = 3
_MAX_DISSOLVE_FRAMES = 30


def _small_bgr(frame_rgb: np.ndarray) -> np.ndarray:
    height, width = frame_rgb.shape[:2]
    size = (_ANALYSIS_WIDTH, max(1, round(height * _ANALYSIS_WIDTH / width)))
    return cv2.cvtColor(cv2.resize(frame_rgb, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2BGR)


class _ContentScore:
    """PySceneDetect's content score of each frame against the one before (0 for the first)."""

    def __init__(self) -> None:
        self._stats = StatsManager()
        self._detector = ContentDetector(threshold=HARD_CUT_SCORE, min_scene_len=1)
        self._detector.stats_manager = self._stats
        self._frame = 0

    def __call__(self, small_bgr: np.ndarray) -> float:
        self._detector.process_frame(self._frame, small_bgr)
        score = self._stats.get_metrics(self._frame, [ContentDetector.FRAME_SCORE_KEY])[0]
        self._frame += 1
        return float(score or 0.0)


class ShotCuts:
    """`new_shot(frame)` for each frame in order: True on the first frame of a new shot."""

    def __init__(self) -> None:
        self._score = _ContentScore()
        self._baseline: deque[float] = deque(maxlen=_BASELINE_FRAMES)
        self._run = 0  # consecutive frames moving more than the shot does
        self._before_run: np.ndarray | None = None  # the last frame before that run (small, BGR)
        self._previous: np.ndarray | None = None

    @property
    def in_transition(self) -> bool:
        """Whether the frame just seen is part of a possible dissolve (changing much more than the shot does)."""
        return self._run >= 2

    def new_shot(self, frame_rgb: np.ndarray) -> bool:
        small = _small_bgr(frame_rgb)
        score = self._score(small)
        previous, self._previous = self._previous, small
        if previous is None:
            return False
        if score >= HARD_CUT_SCORE:
            self._start_shot()
            return True
        baseline = statistics.median(self._baseline) if self._baseline else 0.0
        if score >= max(_RUN_FLOOR, _RUN_OVER_BASELINE * baseline):
            if self._run == 0:
                self._before_run = previous
            self._run += 1
            return False
        dissolved = (_MIN_DISSOLVE_FRAMES <= self._run <= _MAX_DISSOLVE_FRAMES and self._before_run is not None
                     and _changed_like_a_cut(self._before_run, small))
        self._run, self._before_run = 0, None
        self._baseline.append(score)
        if dissolved:
            self._start_shot()
        return dissolved

    def _start_shot(self) -> None:
        self._baseline.clear()
        self._run, self._before_run = 0, None


def _changed_like_a_cut(before_bgr: np.ndarray, after_bgr: np.ndarray) -> bool:
    score = _ContentScore()
    score(before_bgr)
    return score(after_bgr) >= HARD_CUT_SCORE


def shot_starts(frames: list[np.ndarray]) -> list[int]:
    """The index of every shot's first frame in `frames` (0 first)."""
    cuts = ShotCuts()
    return [0, *(index for index, frame in enumerate(frames) if cuts.new_shot(frame) and index > 0)]
