"""`bin/comfyui`: the artists' server starts with our nodes and the saved workflow's sample inputs in place."""

import json
import signal
import subprocess
import sys

import requests

from driver.comfy_server import free_port, wait_until_answering
from driver.web_ui import SAMPLE_AVATAR_NAME, SAMPLE_VIDEO_NAME
from driver.workflow import WORKFLOW_DIR


def test_web_ui_serves_the_pack_and_the_workflows_sample_inputs(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "driver.web_ui", "--port", str(port), "--work-dir", str(tmp_path), "--sample-height", "360"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, 240, process, lambda: process.stdout.read()[-2000:])
        info = requests.get(url + "/object_info", timeout=30).json()
        assert {"UGCSwapSegmentPlan", "UGCSwapFaceReplace", "UGCSwapStitch"} <= set(info)
        ui = json.loads((WORKFLOW_DIR / "ugc_swap_fast.json").read_text())
        referenced = {n["widgets_values"][0] for n in ui["nodes"] if n["type"] in ("LoadVideo", "LoadImage")}
        assert referenced == {SAMPLE_VIDEO_NAME, SAMPLE_AVATAR_NAME}
        for name in referenced:
            response = requests.get(url + "/view", params={"filename": name, "type": "input"}, timeout=30)
            assert response.ok and len(response.content) > 10_000, name
        assert SAMPLE_VIDEO_NAME in info["LoadVideo"]["input"]["required"]["file"][1]["options"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    try:
        requests.get(url + "/system_stats", timeout=2)
        raise AssertionError("ComfyUI still answers after bin/comfyui was stopped")
    except requests.ConnectionError:
        pass
