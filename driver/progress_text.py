"""Progress as short text for Runpod's progress_update, the Pods `/status` answer and the CLI's bar.

ComfyUI sends a progress message per frame; forwarding each one would flood Runpod's API, so frame progress is
passed on only when it moved by a few percent or a couple of seconds went by.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProgressReporter:
    sink: Callable[[str], None] | None
    min_interval_s: float = 2.0
    min_step_percent: float = 5.0
    _last_time: float = field(default=0.0, init=False)
    _last_percent: float = field(default=-100.0, init=False)

    def stage(self, text: str) -> None:
        self._emit(text)

    def comfy_progress(self, node: str | None, value: int, maximum: int) -> None:
        if maximum <= 0:
            return
        percent = 100.0 * value / maximum
        now = time.monotonic()
        finished = value >= maximum
        if finished or percent - self._last_percent >= self.min_step_percent or now - self._last_time >= self.min_interval_s:
            self._last_percent, self._last_time = percent, now
            self._emit(f"swapping faces: {value}/{maximum} frames ({percent:.0f}%)")

    def _emit(self, text: str) -> None:
        if self.sink is not None:
            try:
                self.sink(text)
            except Exception:  # noqa: BLE001 - a progress display must never fail the job
                pass
