"""`python -m driver`: run one swap on a local ComfyUI (started here on CPU unless --comfy-url is given)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ugc_swap.core.engines import ENGINE_NAMES
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN

from .comfy_client import ComfyClient
from .comfy_server import LocalComfyUI
from .local_inputs import resolve_input, sample_inputs
from .swap_job import SwapJob, run_swap_job

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ugc-swap", description=__doc__)
    parser.add_argument("--video", help="product-demo video: path or http(s) URL (default: a generated 30 s sample)")
    parser.add_argument("--avatar", help="face photo: path or http(s) URL (default: a shipped sample portrait)")
    parser.add_argument("--segments", default=DEFAULT_SEGMENT_PLAN, help="segment plan (default: %(default)r)")
    parser.add_argument("--engine", default="fast", choices=ENGINE_NAMES)
    parser.add_argument("--out-dir", type=Path, default=REPO / "output", help="where the result goes")
    parser.add_argument("--comfy-url", help="use a running ComfyUI instead of starting one")
    parser.add_argument("--work-dir", type=Path, default=REPO / ".work" / "comfyui",
                        help="ComfyUI base directory for the local server (models, input, output)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="job timeout in seconds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    started = time.monotonic()
    try:
        if args.video or args.avatar:
            if not (args.video and args.avatar):
                raise SystemExit("give both --video and --avatar, or neither for the sample inputs")
            video = resolve_input(args.video, args.out_dir / "inputs" / "video.mp4")
            avatar = resolve_input(args.avatar, args.out_dir / "inputs" / "avatar.png")
        else:
            print("No --video/--avatar given: using the generated sample video and a sample avatar photo.")
            video, avatar = sample_inputs(args.out_dir / "inputs")
        job = SwapJob(video, avatar, args.segments, args.engine)
        if args.comfy_url:
            outcome = run_swap_job(ComfyClient(args.comfy_url), job, args.out_dir, args.timeout)
        else:
            with LocalComfyUI(args.work_dir) as server:
                outcome = run_swap_job(ComfyClient(server.url), job, args.out_dir, args.timeout)
    except UgcSwapError as error:
        print(f"ugc-swap failed: {error}", file=sys.stderr)
        return 1
    summary = outcome.summary
    print(f"\nResult: {outcome.output_path}")
    print(f"Engine {summary['engine']}, {summary['duration_s']} s at {summary['fps']:.3f} fps")
    for segment in summary["segments_swapped"]:
        print(f"  swapped {segment['start_s']}-{segment['end_s']} s: face in {segment['frames_with_face']}"
              f" of {segment['frames']} frames")
    for warning in summary["warnings"]:
        print(f"  warning: {warning}")
    print(f"Time taken: {time.monotonic() - started:.1f} s (ComfyUI {outcome.timings_s['comfyui']:.1f} s)")
    print(json.dumps({"prompt_id": outcome.prompt_id, "timings_s": outcome.timings_s}))
    print("To open the same graph in the web UI: bin/comfyui, then load workflows/ugc_swap_fast.json.")
    return 0
