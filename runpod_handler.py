"""Runpod serverless entry point: `handler(job)` runs one Make.com job through the shared driver.

The worker (config check, ComfyUI start) is built once per container, before the first job is taken, so a broken
deployment fails at boot with a message naming what is wrong instead of failing every job. Run locally with
`python runpod_handler.py --rp_serve_api` (see README, "Runpod serverless").
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent / "custom_nodes")]
# The SDK logs each handler's whole output at DEBUG, its default: that is the customer's signed video URL, valid
# for days, in the worker log. INFO unless the deployer asks for more.
os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")

import runpod  # noqa: E402 (the path above must be set first)

from driver.config import load_config  # noqa: E402
from driver.job_result import for_runpod_api  # noqa: E402
from driver.swap_worker import SwapWorker  # noqa: E402
from ugc_swap.core.errors import UgcSwapError  # noqa: E402


@functools.cache
def worker() -> SwapWorker:
    return SwapWorker.from_config(load_config(os.environ)).start()


def handler(job: dict) -> dict:
    # Progress goes to Runpod's job endpoint, which exists only on Runpod: the local API (--rp_serve_api) has none,
    # and the SDK would log a failed post for every update.
    on_runpod = bool(os.environ.get("RUNPOD_WEBHOOK_POST_OUTPUT"))
    progress = (lambda text: runpod.serverless.progress_update(job, text)) if on_runpod else None
    return for_runpod_api(worker().handle(job.get("input"), progress=progress), replace_worker=worker().comfy.broken)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        worker()
    except UgcSwapError as error:  # a broken deployment says what is wrong once, at boot
        sys.exit(f"ugc-swap worker cannot start: {error}")
    runpod.serverless.start({"handler": handler})
