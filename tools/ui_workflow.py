"""Write the web-UI twin of an API-format workflow (laid out by tools/ui_layout.py) from a live ComfyUI's schemas.

`python tools/ui_workflow.py workflows/ugc_swap_wan.api.json` (inside `source bin/_env.sh`) starts a local
ComfyUI, reads /object_info, and writes workflows/ugc_swap_wan.json. The saved pair is then what artists open
and what the driver submits; tests/test_workflows.py checks every pair stays one graph.
"""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "custom_nodes")]

from tools.ui_layout import arrange, framed_view, node_height, node_width, note_node, note_text

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
# Node colours (title, body) by stage, so an artist sees inputs, models, the swap and the output at a glance.
STAGE_COLOURS = {
    "input": ("#223355", "#2f4470"),
    "model": ("#553322", "#6b4430"),
    "swap": ("#432255", "#563070"),
    "output": ("#225533", "#2f6b44"),
}
_STAGE_OF = {"LoadVideo": "input", "LoadImage": "input", "UGCSwapStitch": "output", "UGCSwapQuality": "output"}


def stage_of(class_type: str) -> str:
    if class_type in _STAGE_OF:
        return _STAGE_OF[class_type]
    return "swap" if class_type.startswith("UGCSwap") else "model"


def ordered_inputs(schema: dict) -> list[tuple[str, list]]:
    specs = {**schema["input"].get("required", {}), **schema["input"].get("optional", {})}
    order = schema.get("input_order", {})
    names = order.get("required", []) + order.get("optional", []) or list(specs)
    return [(name, specs[name]) for name in names]


def is_widget(spec: list) -> bool:
    return isinstance(spec[0], list) or spec[0] in WIDGET_TYPES


def extra_widget_value(spec: list) -> Any:
    """The frontend stores one more value after seed-like and upload widgets; None when it does not."""
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if options.get("control_after_generate"):
        return "fixed"
    if any(key.endswith("_upload") for key in options):
        return "image"
    return None


def _depths(api: dict[str, Any]) -> dict[str, int]:
    depth: dict[str, int] = {}

    def visit(node_id: str) -> int:
        if node_id not in depth:
            sources = [v[0] for v in api[node_id]["inputs"].values() if isinstance(v, list)]
            depth[node_id] = 1 + max((visit(s) for s in sources), default=-1)
        return depth[node_id]

    for node_id in api:
        visit(node_id)
    return depth


def ui_from_api(api: dict[str, Any], object_info: dict[str, Any], name: str = "ugc-swap") -> dict[str, Any]:
    depths = _depths(api)
    nodes, links = [], []
    outputs: dict[str, list[dict]] = {}
    for node_id in sorted(api, key=lambda n: (depths[n], int(n))):
        schema = object_info[api[node_id]["class_type"]]
        outputs[node_id] = [{"name": name, "type": kind, "links": []}
                            for name, kind in zip(schema.get("output_name", schema["output"]), schema["output"])]
    for order, node_id in enumerate(sorted(api, key=lambda n: (depths[n], int(n)))):
        node = api[node_id]
        schema = object_info[node["class_type"]]
        inputs, widgets = [], []
        for name, spec in ordered_inputs(schema):
            value = node["inputs"].get(name)
            if isinstance(value, list):
                link_id = len(links) + 1
                origin, slot = value
                kind = outputs[origin][slot]["type"]
                links.append([link_id, int(origin), slot, int(node_id), len(inputs), kind])
                outputs[origin][slot]["links"].append(link_id)
                inputs.append({"name": name, "type": kind, "link": link_id})
            elif is_widget(spec):
                widgets.append(value)
                if (extra := extra_widget_value(spec)) is not None:
                    widgets.append(extra)
            elif name in schema["input"].get("optional", {}):
                continue
        stage = stage_of(node["class_type"])
        colour, bgcolour = STAGE_COLOURS[stage]
        nodes.append({
            "id": int(node_id), "type": node["class_type"], "pos": [0, 0], "color": colour, "bgcolor": bgcolour,
            "size": [node_width(node["class_type"], stage),
                     node_height(node["class_type"], len(widgets) + len(inputs))],
            "flags": {}, "order": order, "mode": 0, "inputs": inputs,
            "outputs": outputs[node_id], "title": node["_meta"]["title"],
            "properties": {"Node name for S&R": node["class_type"]}, "widgets_values": widgets,
        })
    note_id = max(int(n) for n in api) + 1
    note = note_node(note_id, note_text(api, object_info), len(nodes))
    groups = arrange(nodes, {n["id"]: stage_of(n["type"]) for n in nodes}, {int(k): v for k, v in depths.items()}, note)
    # The frontend checks the workflow id is a UUID; a stable one per file keeps diffs quiet.
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ugc-swap/{name}")), "revision": 0, "last_node_id": note_id,
            "last_link_id": len(links), "nodes": [*nodes, note], "links": links, "groups": groups, "config": {},
            "extra": {"ds": framed_view([*nodes, note], groups)}, "version": 0.4}


def main(api_path: Path) -> Path:
    from driver.comfy_client import ComfyClient
    from driver.comfy_server import LocalComfyUI

    with tempfile.TemporaryDirectory() as base, LocalComfyUI(Path(base)) as server:
        object_info = ComfyClient(server.url).object_info()
    target = api_path.with_name(api_path.name.replace(".api.json", ".json"))
    graph = ui_from_api(json.loads(api_path.read_text()), object_info, target.name)
    target.write_text(json.dumps(graph, indent=1) + "\n")
    return target


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
