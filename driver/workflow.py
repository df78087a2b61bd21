"""The saved API-format workflow, and filling its inputs by node title (never by node id, which artists renumber)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ugc_swap.core.engines import engine_names, engine_spec

from .errors import WorkflowError

WORKFLOW_DIR = Path(__file__).resolve().parent.parent / "workflows"
FAST_API_WORKFLOW = WORKFLOW_DIR / "ugc_swap_fast.api.json"

# Titles the driver relies on; the UI workflow uses the same ones, so artists can see what the driver fills.
SOURCE_VIDEO = "Source video"
AVATAR_PHOTO = "Avatar photo"
SEGMENT_PLAN = "Segment plan"
FACE_REPLACE = "Face replace"
STITCH = "Stitch & save"
QUALITY = "Swap quality"


def load_api_workflow(path: Path = FAST_API_WORKFLOW) -> dict[str, Any]:
    try:
        graph = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkflowError(f"cannot read workflow {path}: {exc}") from None
    if not isinstance(graph, dict) or not all(isinstance(n, dict) and "class_type" in n for n in graph.values()):
        raise WorkflowError(f"{path} is not an API-format workflow (export it with 'Export (API)')")
    return graph


def saved_workflow(engine: str) -> Path:
    """The API-format graph the engine registry names for `engine`."""
    return WORKFLOW_DIR / engine_spec(engine).workflow


def saved_workflows() -> dict[str, Path]:
    """Every registered engine's saved API-format graph."""
    return {engine: saved_workflow(engine) for engine in engine_names()}


def workflow_for_engine(engine: str, environ: Mapping[str, str]) -> Path:
    """The graph a job for `engine` runs: UGC_SWAP_WORKFLOW_<ENGINE> (an artist's own export), else the saved one."""
    override = environ.get(f"UGC_SWAP_WORKFLOW_{engine.upper()}", "").strip()
    if override:
        return Path(override).expanduser()
    return saved_workflow(engine)


def has_input(graph: dict[str, Any], title: str, input_name: str) -> bool:
    return input_name in graph[node_id_by_title(graph, title)].get("inputs", {})


def node_id_by_title(graph: dict[str, Any], title: str) -> str:
    matches = [node_id for node_id, node in graph.items() if node.get("_meta", {}).get("title") == title]
    if len(matches) != 1:
        raise WorkflowError(f"the workflow must have exactly one node titled {title!r}, found {len(matches)}")
    return matches[0]


def with_inputs(graph: dict[str, Any], values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """A copy of `graph` with {(node title, input name): value} set; each input must already exist there."""
    filled = copy.deepcopy(graph)
    for (title, input_name), value in values.items():
        node = filled[node_id_by_title(filled, title)]
        if input_name not in node.get("inputs", {}):
            raise WorkflowError(f"node {title!r} ({node['class_type']}) has no input {input_name!r}")
        node["inputs"][input_name] = value
    return filled


def with_image_input(graph: dict[str, Any], title: str, image_name: str, into: tuple[str, str]) -> dict[str, Any]:
    """A copy of `graph` with a Load Image node titled `title` (loading the uploaded `image_name`) wired into the
    optional IMAGE input `into` (node title, input name)."""
    filled = copy.deepcopy(graph)
    target = node_id_by_title(filled, into[0])
    node_id = str(max((int(k) for k in filled if k.isdigit()), default=0) + 1)
    filled[node_id] = {"class_type": "LoadImage", "inputs": {"image": image_name}, "_meta": {"title": title}}
    filled[target]["inputs"][into[1]] = [node_id, 0]
    return filled
