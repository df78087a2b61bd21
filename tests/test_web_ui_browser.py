"""The artists' path in a real browser: Debian's chromium (playwright-core) on `bin/comfyui`'s server.

Every saved workflow loads with no missing node and the same API prompt the driver submits (the UI builds it with
graphToPrompt, so no hand-written converter judges the pair), opens tidy (all of it in view and readable, nothing
overlapping once previews load, titled groups, a note on the main knobs); the fast graph is queued from the UI and
its video previewed in the page. The screenshots in docs/ are retaken here. Fails, never skips, when the browser
or the node tools are missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from driver import workflow as wf
from driver.comfy_server import free_port, wait_until_answering
from tools.ui_layout import GROUP_TITLES, UI_ONLY_TYPES
from tools.ui_workflow import stage_of

SCRIPT = Path(__file__).resolve().parent / "browser" / "check_workflows.mjs"
UI_ONLY_INPUTS = {"video-preview", "upload"}
PACK_NODES = {"UGCSwapSegmentPlan", "UGCSwapFaceReplace", "UGCSwapWanReplace", "UGCSwapStitch"}
DOCS = Path(__file__).resolve().parent.parent / "docs"
# Screenshot the browser test takes -> the picture in docs/ it keeps current.
DOC_SCREENSHOTS = {"ugc_swap_fast.png": "web_ui_fast_graph.png", "after_run.png": "web_ui_fast_run.png",
                   "ugc_swap_wan.png": "web_ui_wan_graph.png"}


@pytest.fixture(scope="module")
def browser_report(tmp_path_factory):
    chromium = shutil.which("chromium")
    modules = Path(os.environ.get("UGC_SWAP_NODE_MODULES", "")) / "playwright-core"
    assert chromium, "Debian's chromium is missing: bin/test-tools installs it as root (apt-get install chromium)"
    assert modules.is_dir(), f"playwright-core is missing at {modules}: run bin/test-tools (bin/test does)"
    work, shots = tmp_path_factory.mktemp("web_ui"), tmp_path_factory.mktemp("screenshots")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "driver.web_ui", "--port", str(port), "--work-dir", str(work),
                               "--sample-height", "360"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, 240, server, lambda: server.stdout.read()[-2000:])
        files = [str(wf.WORKFLOW_DIR / f"ugc_swap_{engine}.json") for engine in wf.saved_workflows()]
        run = subprocess.run(["node", str(SCRIPT), url, str(shots), "ugc_swap_fast.json", *files],
                             capture_output=True, text=True, timeout=900, env={**os.environ, "CHROMIUM": chromium},
                             check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        report = json.loads(run.stdout.strip().splitlines()[-1])
        report["screenshots"] = shots
        for taken, kept in DOC_SCREENSHOTS.items():
            if (shots / taken).is_file():
                shutil.copyfile(shots / taken, DOCS / kept)
        yield report
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


@pytest.mark.parametrize("engine", list(wf.saved_workflows()))
def test_each_workflow_opens_with_nothing_missing(browser_report, engine):
    seen = browser_report["workflows"][f"ugc_swap_{engine}.json"]
    # No missing-node dialog and no warning toast (the frontend validates the whole workflow file on load).
    assert seen["missing"] == [] and seen["dialogs"] == [], seen["dialogs"]
    ours = [n for n in seen["nodes"] if n["type"] in PACK_NODES]
    assert {n["type"] for n in ours} >= {"UGCSwapSegmentPlan", "UGCSwapStitch"}
    for node in ours:
        assert node["widgets"], f"{node['type']} shows no widgets"
        for widget in node["widgets"]:
            if isinstance(widget["value"], (int, float)) and not isinstance(widget["value"], bool):
                low, high = (widget["options"] or {}).get("min"), (widget["options"] or {}).get("max")
                assert low is not None and high is not None and low <= widget["value"] <= high, (node["type"], widget)
    assert (browser_report["screenshots"] / f"ugc_swap_{engine}.png").stat().st_size > 10_000


@pytest.mark.parametrize("engine", list(wf.saved_workflows()))
def test_the_ui_builds_the_same_prompt_the_driver_submits(browser_report, engine):
    built = browser_report["workflows"][f"ugc_swap_{engine}.json"]["prompt"]
    saved = wf.load_api_workflow(wf.saved_workflow(engine))
    assert set(built) == set(saved)
    for node_id, node in saved.items():
        assert built[node_id]["class_type"] == node["class_type"]
        inputs = dict(built[node_id]["inputs"])
        # The frontend adds its own preview widgets to LoadVideo; the server ignores them.
        ui_only = {k: inputs.pop(k) for k in list(inputs) if k not in node["inputs"] and k in UI_ONLY_INPUTS}
        assert all(v in ("", None) for v in ui_only.values()), ui_only
        assert inputs == node["inputs"], f"node {node_id} ({node['class_type']}) differs"


def test_the_fast_graph_runs_from_the_ui_and_previews_the_video(browser_report):
    run = browser_report["run"]
    assert "ugc_swap" in run["video_src"] and run["video_duration"] > 29
    assert (browser_report["screenshots"] / "after_run.png").stat().st_size > 10_000
    assert browser_report["page_errors"] == []


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _assert_tidy(layout: dict) -> None:
    """All of it on screen, nothing under the page's panels, no two nodes on top of each other."""
    width, height = layout["viewport"]
    for item in layout["nodes"] + layout["groups"]:
        x, y, w, h = item["screen"]
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, f"{item['title']} off screen: {item}"
        assert not item["covered"], f"{item['title']} is under the page's panels: {item['covered']}"
    nodes = layout["nodes"]
    overlapping = [(a["title"], b["title"]) for i, a in enumerate(nodes) for b in nodes[i + 1:]
                   if _overlap(a["box"], b["box"])]
    assert not overlapping, overlapping
    assert not layout["low_quality"], f"at zoom {layout['scale']:.2f} the canvas draws no text"


@pytest.mark.parametrize("engine", list(wf.saved_workflows()))
def test_each_workflow_opens_whole_readable_and_with_nothing_overlapping(browser_report, engine):
    _assert_tidy(browser_report["workflows"][f"ugc_swap_{engine}.json"]["layout"])


def test_output_previews_after_a_run_cover_no_other_node(browser_report):
    _assert_tidy(browser_report["run"]["layout"])


@pytest.mark.parametrize("engine", list(wf.saved_workflows()))
def test_titled_groups_hold_the_inputs_the_swap_and_the_output(browser_report, engine):
    layout = browser_report["workflows"][f"ugc_swap_{engine}.json"]["layout"]
    groups = {g["title"]: g["box"] for g in layout["groups"]}
    assert {GROUP_TITLES["input"], GROUP_TITLES["swap"], GROUP_TITLES["output"]} <= set(groups)
    for node in layout["nodes"]:
        if node["type"] in UI_ONLY_TYPES:
            continue
        holding = [title for title, box in groups.items() if _overlap(node["box"], box)]
        x, y, w, h = node["box"]
        gx, gy, gw, gh = groups[GROUP_TITLES[stage_of(node["type"])]]
        assert holding == [GROUP_TITLES[stage_of(node["type"])]], (node["title"], holding)
        assert gx <= x and gy <= y and x + w <= gx + gw and y + h <= gy + gh, (node["title"], node["box"], gx, gy)


@pytest.mark.parametrize("engine", list(wf.saved_workflows()))
def test_the_note_explains_knobs_the_graph_shows_in_their_own_words(browser_report, engine):
    seen = browser_report["workflows"][f"ugc_swap_{engine}.json"]
    [note] = [n for n in seen["nodes"] if n["type"] in UI_ONLY_TYPES]
    text = note["widgets"][0]["value"]
    explained = dict(re.findall(r"^• (\w+): (.*)$", text, re.MULTILINE))
    assert len(explained) >= 5, text
    tooltips = {w["name"]: w["tooltip"] for n in seen["nodes"] if n["type"] not in UI_ONLY_TYPES for w in n["widgets"]}
    for name, words in explained.items():
        assert name in tooltips, f"the note explains {name}, which no node shows"
        assert words == tooltips[name], f"the note's {name} differs from the widget's own tooltip"
