"""One swap job against a running ComfyUI: upload the two inputs, run the saved workflow, download the result."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN, parse_segment_plan

from . import workflow as wf
from .comfy_client import ComfyClient, ProgressHandler
from .errors import ComfyExecutionError


@dataclass(frozen=True)
class SwapJob:
    video_path: Path
    avatar_path: Path
    segments: str = DEFAULT_SEGMENT_PLAN
    engine: str = "fast"
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass(frozen=True)
class SwapOutcome:
    output_path: Path
    prompt_id: str
    summary: dict[str, Any]
    timings_s: dict[str, float]


def build_graph(job: SwapJob, video_name: str, avatar_name: str, graph: dict[str, Any] | None = None) -> dict[str, Any]:
    """The engine's saved API workflow filled for one job; the per-job filename keeps ComfyUI from serving a
    cached run. Graph engines (wan) have their own workflow, whose replace node has no `engine` input."""
    if graph is None:
        graph = wf.load_api_workflow(wf.workflow_for_engine(job.engine, os.environ))
    values = {
        (wf.SOURCE_VIDEO, "file"): video_name,
        (wf.AVATAR_PHOTO, "image"): avatar_name,
        (wf.SEGMENT_PLAN, "plan"): job.segments,
        (wf.STITCH, "filename_prefix"): f"ugc_swap/{job.job_id}",
    }
    if wf.has_input(graph, wf.FACE_REPLACE, "engine"):
        values[(wf.FACE_REPLACE, "engine")] = job.engine
    return wf.with_inputs(graph, values)


def run_swap_job(
    client: ComfyClient,
    job: SwapJob,
    output_dir: Path,
    timeout_s: float = 1800.0,
    on_progress: ProgressHandler | None = None,
) -> SwapOutcome:
    parse_segment_plan(job.segments)  # a bad plan fails here, before anything is uploaded
    timings: dict[str, float] = {}
    started = time.monotonic()
    video_name = client.upload_input(job.video_path, f"ugc_{job.job_id}_video{job.video_path.suffix or '.mp4'}")
    avatar_name = client.upload_input(job.avatar_path, f"ugc_{job.job_id}_avatar{job.avatar_path.suffix or '.png'}")
    timings["upload_inputs"] = time.monotonic() - started
    result = client.run(build_graph(job, video_name, avatar_name), timeout_s, on_progress)
    timings["comfyui"] = result.execution_s
    summaries = result.ui_values("ugc_swap_summary")
    videos = [f for f in result.files() if f.filename.endswith(".mp4")]
    if not summaries or not videos:
        raise ComfyExecutionError(f"the workflow finished without a video output (prompt {result.prompt_id})")
    fetch_started = time.monotonic()
    output_dir.mkdir(parents=True, exist_ok=True)
    output_path = client.download(videos[0], output_dir / f"ugc_swap_{job.job_id}.mp4")
    timings["download_output"] = time.monotonic() - fetch_started
    timings["total"] = time.monotonic() - started
    return SwapOutcome(output_path, result.prompt_id, summaries[0], {k: round(v, 3) for k, v in timings.items()})
