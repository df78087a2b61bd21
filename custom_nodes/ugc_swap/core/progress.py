"""A progress callback type shared by the core's long loops (ComfyUI nodes hook their progress bar into it)."""

from __future__ import annotations

from collections.abc import Callable

# Called with (frames done, frames total); it may raise to cancel (ComfyUI's interrupt does).
ProgressCallback = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """The default callback: report nothing."""
