"""Pods mode: `ugc-swap serve` on uvicorn answers Make.com exactly like Runpod's /run, /runsync and /status."""

from __future__ import annotations

import time

import pytest
import requests

from .worker_check import assert_complete_everywhere, assert_failed_everywhere
from .worker_stack import PODS_API_KEY, running_worker

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}


@pytest.fixture(scope="module")
def pods_api(s3_endpoint, tmp_path_factory):
    args = ["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("pods_api"), args, "/health") as (stack, url):
        yield stack, url


def test_runsync_with_the_make_com_request(pods_api, sample_video, avatar_png):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-runsync")
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    assert answer["executionTime"] > 0
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=2, duration_s=30.0)


def test_run_and_poll_status_like_make_com_does(pods_api, sample_video, avatar_png):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-run", segments="0-2 swap, 2-end keep")
    queued = requests.post(f"{api}/run", json=request, headers=AUTH, timeout=30).json()
    assert queued["status"] == "IN_QUEUE"
    deadline = time.monotonic() + 600
    answer, progress = queued, set()
    while answer["status"] in ("IN_QUEUE", "IN_PROGRESS") and time.monotonic() < deadline:
        time.sleep(0.3)
        answer = requests.get(f"{api}/status/{queued['id']}", headers=AUTH, timeout=30).json()
        progress.add(answer.get("progress"))
    assert any(text and text.startswith(("downloading", "swapping faces")) for text in progress), progress
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=30.0)


def test_a_failed_job_is_failed_with_its_result_kept(pods_api, sample_video, avatar_png, faceless_video):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-no-face")
    request["input"]["avatar_image_url"] = stack.files.serve_file("/pods-no-face/avatar.mp4", faceless_video)
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()
    assert answer["status"] == "FAILED" and answer["error"].startswith("[input_wrong_type]"), answer
    assert answer["output"]["status"] == "Failed" and answer["output"]["error_code"] == "input_wrong_type"
    assert_failed_everywhere(stack, request, "input_wrong_type", answer["output"])


def test_the_api_key_is_required_and_health_is_open(pods_api):
    _, api = pods_api
    assert requests.post(f"{api}/run", json={"input": {}}, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert requests.get(f"{api}/status/whatever", headers=wrong, timeout=10).status_code == 401
    health = requests.get(f"{api}/health", timeout=10).json()
    assert set(health["jobs"]) >= {"completed", "failed", "inQueue", "inProgress"}
