"""One swap job through a running ComfyUI, as the driver runs it: `bench/run.py` starts this in its own process
so that the memory it measures for "the driver" is a driver's, not the benchmark's (which holds engine models
and decoded frames for the throughput figures).

    python bench/job_runner.py URL VIDEO AVATAR OUTPUT_DIR   → one JSON line: wall, ComfyUI seconds, summary
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

from driver.comfy_client import ComfyClient  # noqa: E402
from driver.swap_job import SwapJob, run_swap_job  # noqa: E402
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN  # noqa: E402


def main(url: str, video: str, avatar: str, output_dir: str) -> None:
    started = time.perf_counter()
    outcome = run_swap_job(ComfyClient(url), SwapJob(Path(video), Path(avatar), DEFAULT_SEGMENT_PLAN),
                           Path(output_dir), timeout_s=3600)
    print(json.dumps({"wall_s": time.perf_counter() - started, "comfyui_s": outcome.timings_s["comfyui"],
                      "stage_seconds": {**outcome.summary.get("stage_seconds", {}),
                                        "quality": outcome.quality.get("seconds", 0.0)},
                      "stitch": outcome.summary.get("stitch", {})}))


if __name__ == "__main__":
    main(*sys.argv[1:])
