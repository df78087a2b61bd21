"""Bridges the core's progress callback to ComfyUI's progress bar and its interrupt button."""

from __future__ import annotations

import comfy.model_management
import comfy.utils

from ..core.progress import ProgressCallback


def comfy_progress(total: int) -> ProgressCallback:
    bar = comfy.utils.ProgressBar(total)

    def report(done: int, new_total: int) -> None:
        # Raises InterruptProcessingException when the user (or the driver's timeout) pressed "interrupt".
        comfy.model_management.throw_exception_if_processing_interrupted()
        bar.update_absolute(done, new_total)

    return report
