"""The saved UI workflow and its API-format twin describe the same graph, judged by the live server's node schemas."""

import json

import pytest

from driver import workflow as wf
from driver.comfy_client import ComfyClient
from tools.ui_layout import UI_ONLY_TYPES
from tools.ui_workflow import extra_widget_value, is_widget, ordered_inputs

# Every saved graph pair: the UI file artists open and the API twin the driver submits.
PAIRS = [pytest.param(wf.WORKFLOW_DIR / f"ugc_swap_{engine}.json", path, id=engine)
         for engine, path in wf.saved_workflows().items()]


@pytest.fixture(scope="module")
def object_info(comfyui):
    return ComfyClient(comfyui.url).object_info()


def widget_inputs_from_ui(node: dict, schema: dict) -> dict:
    """Map a UI node's widgets_values onto input names, the way the frontend lays widgets out."""
    linked = {i["name"] for i in node.get("inputs", []) if i.get("link") is not None}
    values = list(node.get("widgets_values", []))
    named = {}
    for name, spec in ordered_inputs(schema):
        if not is_widget(spec) or name in linked:
            continue
        named[name] = values.pop(0)
        if extra_widget_value(spec) is not None:
            values.pop(0)  # the frontend stores an extra value for these widgets
    assert not values, f"node {node['id']} has unused widget values {values}"
    return named


@pytest.mark.parametrize("ui_path, api_path", PAIRS)
def test_ui_and_api_workflows_are_the_same_graph(object_info, ui_path, api_path):
    ui = json.loads(ui_path.read_text())
    api = wf.load_api_workflow(api_path)
    links = {link[0]: link for link in ui["links"]}
    submitted = [n for n in ui["nodes"] if n["type"] not in UI_ONLY_TYPES]  # a note is never submitted
    assert len(submitted) == len(ui["nodes"]) - 1, "one note node per graph"
    assert {str(n["id"]) for n in submitted} == set(api)
    for node in submitted:
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


@pytest.mark.parametrize("ui_path, api_path", PAIRS)
def test_every_link_in_the_ui_workflow_is_attached_at_both_ends(ui_path, api_path):
    ui = json.loads(ui_path.read_text())
    by_id = {n["id"]: n for n in ui["nodes"]}
    for link_id, origin, slot, target, target_slot, _ in ui["links"]:
        assert link_id in (by_id[origin]["outputs"][slot]["links"] or [])
        assert by_id[target]["inputs"][target_slot]["link"] == link_id


@pytest.mark.parametrize("ui_path, api_path", PAIRS)
def test_driver_titles_are_all_present_in_both_forms(ui_path, api_path):
    ui_titles = {n.get("title") for n in json.loads(ui_path.read_text())["nodes"]}
    for title in (wf.SOURCE_VIDEO, wf.AVATAR_PHOTO, wf.SEGMENT_PLAN, wf.FACE_REPLACE, wf.STITCH):
        assert title in ui_titles
        wf.node_id_by_title(wf.load_api_workflow(api_path), title)
