"""One swap job against a running ComfyUI: upload the two inputs, run the saved workflow, download the result."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ugc_swap.core.engines import DEFAULT_ENGINE, SwapSettings
from ugc_swap.core.quality.rule import DEFAULT_MIN_COVERAGE, IdentityRule
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN, parse_segment_plan
from ugc_swap.core.video.label import LabelSettings

from . import workflow as wf
from .contract import FIELDS_BY_NAME
from .comfy_client import ComfyClient, ProgressHandler
from .errors import ComfyExecutionError

TARGET_FACE = "Target face"  # the Load Image a job adds for a photo of the person to replace


@dataclass(frozen=True)
class SwapJob:
    video_path: Path
    avatar_path: Path
    segments: str = DEFAULT_SEGMENT_PLAN
    engine: str = DEFAULT_ENGINE
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    options: Mapping[str, Any] = field(default_factory=dict)  # other contract fields for the graph, by name
    identity: IdentityRule = IdentityRule()  # what the quality node calls a poor swap
    min_coverage: float = DEFAULT_MIN_COVERAGE  # ... and a half-done one
    target_face_path: Path | None = None  # a photo of the person to replace (target `reference`)
    # The worker's defaults for graph inputs no request field names (the label's text, corner and size) or that a
    # request may override (the label's mode): {(node title, input name): value}.
    graph_defaults: Mapping[tuple[str, str], Any] = field(default_factory=dict)

    def contract_values(self) -> dict[str, Any]:
        return {"segments": self.segments, "engine": self.engine, **self.options}


@dataclass(frozen=True)
class SwapOutcome:
    output_path: Path
    prompt_id: str
    summary: dict[str, Any]  # the stitch node's
    timings_s: dict[str, float]
    quality: dict[str, Any]  # the quality node's: identity both ways, coverage of each swap segment
    sheet_path: Path  # the quality node's before/after sheet (JPEG)


def build_graph(job: SwapJob, video_name: str, avatar_name: str, graph: dict[str, Any] | None = None,
                target_face_name: str | None = None) -> dict[str, Any]:
    """The engine's saved API workflow filled for one job: the uploaded inputs (a photo of the person to replace
    joins the graph as its own Load Image), every contract field that fills the graph (contract.py), and a per-job
    filename that keeps ComfyUI from serving a cached run."""
    if graph is None:
        graph = wf.load_api_workflow(wf.workflow_for_engine(job.engine, os.environ))
    values: dict[tuple[str, str], Any] = {
        (wf.SOURCE_VIDEO, "file"): video_name,
        (wf.AVATAR_PHOTO, "image"): avatar_name,
        (wf.STITCH, "filename_prefix"): f"ugc_swap/{job.job_id}",
        (wf.QUALITY, "filename_prefix"): f"ugc_swap/{job.job_id}_quality",
        (wf.QUALITY, "max_distance"): job.identity.max_distance,
        (wf.QUALITY, "min_margin"): job.identity.min_margin,
        (wf.QUALITY, "min_coverage"): job.min_coverage,
        **{key: value for key, value in job.graph_defaults.items() if wf.has_input(graph, *key)},
    }
    for name, value in job.contract_values().items():
        if value is None:  # an optional field not given: the graph's own default stays
            continue
        contract_field = FIELDS_BY_NAME[name]
        title, input_name = contract_field.graph_input  # type: ignore[misc]
        if contract_field.graph_input_required or wf.has_input(graph, title, input_name):
            values[(title, input_name)] = value
    filled = wf.with_inputs(graph, values)
    return wf.with_image_input(filled, TARGET_FACE, target_face_name, (wf.FACE_REPLACE, "target_face")) \
        if target_face_name else filled


def check_avatar_photo(client: ComfyClient, avatar_path: Path, job_id: str, timeout_s: float = 120.0) -> dict:
    """The avatar gate, run by ComfyUI on the photo alone before anything else of the job is fetched: its report
    (figures, warnings), or the refusal (avatar_no_face, avatar_multiple_faces, avatar_low_quality) raised."""
    # The upload's name carries the job id, so ComfyUI never answers from its cache of another job's check.
    name = client.upload_input(avatar_path, f"ugc_{job_id}_avatar{avatar_path.suffix or '.png'}")
    graph = {"1": {"class_type": "LoadImage", "inputs": {"image": name}, "_meta": {"title": wf.AVATAR_PHOTO}},
             "2": {"class_type": "UGCSwapAvatarCheck", "inputs": {"avatar": ["1", 0], "min_face_confidence":
                                                                   SwapSettings().min_face_confidence},
                   "_meta": {"title": "Avatar check"}}}
    result = client.run(graph, timeout_s)
    reports = result.ui_values("ugc_swap_avatar_check")
    if not reports:
        raise ComfyExecutionError(f"the avatar check finished without a report (prompt {result.prompt_id})")
    return reports[0]


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
    target_name = None
    if job.target_face_path is not None:
        target_name = client.upload_input(job.target_face_path,
                                          f"ugc_{job.job_id}_target{job.target_face_path.suffix or '.png'}")
    timings["upload_inputs"] = time.monotonic() - started
    graph = build_graph(job, video_name, avatar_name, target_face_name=target_name)
    titled = None
    if on_progress is not None:  # progress names the node by its title, which says the step (progress_text.py)
        titles = {node_id: node.get("_meta", {}).get("title", node_id) for node_id, node in graph.items()}
        report = on_progress
        titled = lambda node, value, maximum: report(titles.get(node, node), value, maximum)  # noqa: E731
    result = client.run(graph, timeout_s, titled)
    timings["comfyui"] = result.execution_s
    summaries, qualities = result.ui_values("ugc_swap_summary"), result.ui_values("ugc_swap_quality")
    videos = [f for f in result.files() if f.filename.endswith(".mp4")]
    sheets = [f for f in result.files() if f.filename.endswith(".jpg")]
    if not summaries or not videos:
        raise ComfyExecutionError(f"the workflow finished without a video output (prompt {result.prompt_id})")
    if not qualities or not sheets:
        raise ComfyExecutionError(f"the workflow finished without its quality report (prompt {result.prompt_id})")
    fetch_started = time.monotonic()
    output_dir.mkdir(parents=True, exist_ok=True)
    output_path = client.download(videos[0], output_dir / f"ugc_swap_{job.job_id}.mp4")
    sheet_path = client.download(sheets[0], output_dir / f"ugc_swap_{job.job_id}_preview.jpg")
    timings["download_output"] = time.monotonic() - fetch_started
    timings["total"] = time.monotonic() - started
    return SwapOutcome(output_path, result.prompt_id, summaries[0], {k: round(v, 3) for k, v in timings.items()},
                       qualities[0], sheet_path)


def marking_defaults(label: LabelSettings, watermark: bool, record_id: str | None,
                     job_id: str) -> dict[tuple[str, str], Any]:
    """The worker's label settings, and what the invisible mark carries (a hash of the record and job id, so a
    found mark leads back to both), as the replace node's inputs."""
    return {(wf.FACE_REPLACE, "label"): label.mode, (wf.FACE_REPLACE, "label_text"): label.text,
            (wf.FACE_REPLACE, "label_corner"): label.corner, (wf.FACE_REPLACE, "label_size"): label.size,
            (wf.FACE_REPLACE, "watermark"): watermark_text(record_id, job_id) if watermark else "off"}


def watermark_text(record_id: str | None, job_id: str) -> str:
    """What a job's mark is a hash of (its payload is in the job's result as `watermark`)."""
    return f"{record_id or ''}:{job_id}"
