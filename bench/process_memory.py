"""Memory of a process and its children as PSS, shared by the benchmarks (bench/run.py) and the fault soak.

PSS (each shared page split between the processes that map it), not RSS: summed RSS counts the ffmpeg binary's
pages once per ffmpeg process. A child caught between fork and exec (the same command line as its parent, alive
for a few ms while ffmpeg starts) is skipped: polled mid-fork it read as a second ComfyUI of up to 950 MB that
never existed.
"""

from __future__ import annotations

import psutil


def pss(process: psutil.Process) -> int:
    """Bytes; 0 for a process that exited between listing and reading."""
    try:
        return process.memory_full_info().pss
    except psutil.Error:
        return 0


def tree_pss(process: psutil.Process) -> int:
    """Bytes of `process` and every child it has (forks not yet exec'd left out)."""
    try:
        command = process.cmdline()
        children = [c for c in process.children(recursive=True) if not _forked_from(c, command)]
    except psutil.Error:
        children = []
    return pss(process) + sum(pss(child) for child in children)


def _forked_from(child: psutil.Process, parent_command: list[str]) -> bool:
    try:
        return child.cmdline() == parent_command
    except psutil.Error:
        return True  # gone already
