"""Giving freed heap memory back to the operating system between the stages of a job."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return library if library is not None and hasattr(library, "malloc_trim") else None


def release_freed_memory() -> bool:
    """Return freed heap pages to the OS (glibc's malloc_trim); False where the C library has no such call.

    A swap churns through hundreds of frame-sized numpy temporaries; glibc keeps the freed pages in its arenas,
    so the worker would carry the swap's peak into the stitch and every later job unless they are handed back.
    """
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
