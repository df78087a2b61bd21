"""Progress as short text for Runpod's progress_update, the Pods `/status` answer and the CLI's bar.

Every text starts with the whole job's share done, which never goes back, then names the step:
"62% swapping faces: 180/300 frames". Each step owns a slice of the whole (by what it usually costs); the graph's
nodes report their own frames (the swap, then the stitch over every frame of the video) and are placed in their
step's slice. ComfyUI sends a progress message per frame; forwarding each one would flood Runpod's API, so frame
progress is passed on only when it moved by a few percent or a couple of seconds went by.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .workflow import FACE_REPLACE, QUALITY, STITCH

# Each step's slice of the whole job (start, end), in percent; the graph's node titles map onto them.
STEPS: dict[str, tuple[float, float]] = {
    "downloading inputs": (0.0, 4.0),
    "checking the avatar photo": (4.0, 6.0),
    "swapping faces": (6.0, 80.0),
    "joining the video": (80.0, 92.0),
    "judging the swap": (92.0, 94.0),
    "signing the result": (94.0, 95.0),
    "uploading the result": (95.0, 100.0),
    "done": (100.0, 100.0),
}
# The graph's node titles (driver/workflow.py) whose frame progress belongs to a step.
NODE_STEPS = {FACE_REPLACE: "swapping faces", STITCH: "joining the video", QUALITY: "judging the swap"}


@dataclass
class ProgressReporter:
    sink: Callable[[str], None] | None
    min_interval_s: float = 2.0
    min_step_percent: float = 5.0
    _last_time: float = field(default=0.0, init=False)
    _last_step_percent: float = field(default=-100.0, init=False)
    _step: str = field(default="", init=False)
    _overall: float = field(default=0.0, init=False)

    def stage(self, text: str) -> None:
        self._step, self._last_step_percent = text, -100.0
        self._emit(text, STEPS.get(text, (self._overall, self._overall))[0])

    def comfy_progress(self, node: str | None, value: int, maximum: int) -> None:
        """Frame progress of the graph node titled `node`."""
        if maximum <= 0:
            return
        step = NODE_STEPS.get(node or "", self._step or "swapping faces")
        if step != self._step:
            self._step, self._last_step_percent = step, -100.0
        percent = 100.0 * value / maximum
        now = time.monotonic()
        finished = value >= maximum
        if finished or percent - self._last_step_percent >= self.min_step_percent or \
                now - self._last_time >= self.min_interval_s:
            self._last_step_percent, self._last_time = percent, now
            start, end = STEPS.get(step, (self._overall, self._overall))
            self._emit(f"{step}: {value}/{maximum} frames", start + (end - start) * min(1.0, value / maximum))

    def _emit(self, text: str, overall: float) -> None:
        self._overall = max(self._overall, overall)  # a later step never shows less than an earlier one
        if self.sink is not None:
            try:
                self.sink(f"{self._overall:.0f}% {text}")
            except Exception:  # noqa: BLE001 - a progress display must never fail the job
                pass
