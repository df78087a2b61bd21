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

from driver.c2pa_credentials import make_chain  # noqa: E402
from driver.comfy_client import ComfyClient  # noqa: E402
from driver.job_provenance import sign_result  # noqa: E402
from driver.swap_job import SwapJob, run_swap_job  # noqa: E402
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN  # noqa: E402


_SIGNER = make_chain("ugc-swap bench")[0]


def main(url: str, video: str, avatar: str, output_dir: str) -> None:
    started = time.perf_counter()
    job = SwapJob(Path(video), Path(avatar), DEFAULT_SEGMENT_PLAN)
    outcome = run_swap_job(ComfyClient(url), job, Path(output_dir), timeout_s=3600)
    # Marking, as a worker does it after the graph: the C2PA manifest (a throwaway signer, same cost).
    signing_started = time.perf_counter()
    sign_result(outcome.output_path, Path(video), outcome.summary, job.job_id, None, "bench", _SIGNER)
    signing = time.perf_counter() - signing_started
    print(json.dumps({"wall_s": time.perf_counter() - started, "comfyui_s": outcome.timings_s["comfyui"],
                      "stage_seconds": {**outcome.summary.get("stage_seconds", {}),
                                        "quality": outcome.quality.get("seconds", 0.0),
                                        "c2pa_signing": round(signing, 3)},
                      "stitch": outcome.summary.get("stitch", {}),
                      "output_bytes": outcome.output_path.stat().st_size}))


if __name__ == "__main__":
    main(*sys.argv[1:])
