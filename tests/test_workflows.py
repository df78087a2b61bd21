"""The saved UI workflow and its API-format twin describe the same graph, judged by the live server's node schemas."""

import json

import pytest

from driver import workflow as wf
from driver.comfy_client import ComfyClient

UI_WORKFLOW = wf.WORKFLOW_DIR / "ugc_swap_fast.json"
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


@pytest.fixture(scope="module")
def object_info(comfyui):
    return ComfyClient(comfyui.url).object_info()


def ordered_inputs(schema: dict) -> list[tuple[str, list]]:
    specs = {**schema["input"].get("required", {}), **schema["input"].get("optional", {})}
    order = schema.get("input_order", {})
    names = order.get("required", []) + order.get("optional", []) or list(specs)
    return [(name, specs[name]) for name in names]


def is_widget(spec: list) -> bool:
    return isinstance(spec[0], list) or spec[0] in WIDGET_TYPES


def widget_inputs_from_ui(node: dict, schema: dict) -> dict:
    """Map a UI node's widgets_values onto input names, the way the frontend lays widgets out."""
    linked = {i["name"] for i in node.get("inputs", []) if i.get("link") is not None}
    values = list(node.get("widgets_values", []))
    named = {}
    for name, spec in ordered_inputs(schema):
        if not is_widget(spec) or name in linked:
            continue
        named[name] = values.pop(0)
        options = spec[1] if len(spec) > 1 else {}
        if options.get("control_after_generate") or any(k.endswith("_upload") for k in options):
            values.pop(0)  # the frontend stores an extra value for these widgets
    assert not values, f"node {node['id']} has unused widget values {values}"
    return named


def test_ui_and_api_workflows_are_the_same_graph(object_info):
    ui = json.loads(UI_WORKFLOW.read_text())
    api = wf.load_api_workflow()
    links = {link[0]: link for link in ui["links"]}
    assert {str(n["id"]) for n in ui["nodes"]} == set(api)
    for node in ui["nodes"]:
        twin = api[str(node["id"])]
        schema = object_info[node["type"]]
        assert twin["class_type"] == node["type"]
        assert twin["_meta"]["title"] == node["title"]
        expected = widget_inputs_from_ui(node, schema)
        for ui_input in node.get("inputs", []):
            if ui_input.get("link") is None:
                continue
            _, origin, slot, target, _, link_type = links[ui_input["link"]]
            assert target == node["id"]
            assert object_info[api[str(origin)]["class_type"]]["output"][slot] == link_type == ui_input["type"]
            expected[ui_input["name"]] = [str(origin), slot]
        assert twin["inputs"] == expected, f"node {node['id']} ({node['type']}) differs"


def test_every_link_in_the_ui_workflow_is_attached_at_both_ends():
    ui = json.loads(UI_WORKFLOW.read_text())
    by_id = {n["id"]: n for n in ui["nodes"]}
    for link_id, origin, slot, target, target_slot, _ in ui["links"]:
        assert link_id in (by_id[origin]["outputs"][slot]["links"] or [])
        assert by_id[target]["inputs"][target_slot]["link"] == link_id


def test_driver_titles_are_all_present_in_both_forms():
    ui_titles = {n.get("title") for n in json.loads(UI_WORKFLOW.read_text())["nodes"]}
    for title in (wf.SOURCE_VIDEO, wf.AVATAR_PHOTO, wf.SEGMENT_PLAN, wf.FACE_REPLACE, wf.STITCH):
        assert title in ui_titles
        wf.node_id_by_title(wf.load_api_workflow(), title)
