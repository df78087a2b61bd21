import numpy as np
import psutil

from ugc_swap.core.heap import release_freed_memory


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1024**2


def test_freed_frame_temporaries_go_back_to_the_os():
    # 200 MB in 64 kB blocks (below glibc's mmap threshold, so they live on the heap like a swap's temporaries),
    # with every tenth kept so the freed pages sit in the middle of the heap, where only malloc_trim reaches them.
    blocks = [np.ones(64 * 1024, np.uint8) for _ in range(3200)]
    kept = blocks[::10]
    del blocks
    before = _rss_mb()
    assert release_freed_memory()
    after = _rss_mb()
    assert before - after > 100, (before, after)
    assert len(kept) == 320


def test_comfyui_runs_with_few_malloc_arenas(comfyui):
    # Every mode (CLI, Runpod, Pods, web UI) starts ComfyUI through LocalComfyUI.
    environment = psutil.Process(comfyui._process.pid).environ()
    assert environment.get("MALLOC_ARENA_MAX") == "2"
