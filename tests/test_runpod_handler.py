"""runpod_handler.py under the real runpod SDK (`--rp_serve_api`), driven with Make.com-shaped requests.

Inputs come from a local HTTP server, results go to moto_server, the webhook to a receiver that verifies the
signature, row updates to the Airtable stand-in through pyairtable. Config reaches the worker only through its
environment, exactly as a Runpod template sets it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from .worker_check import assert_complete_everywhere, assert_failed_everywhere, runpod_failure
from .worker_stack import running_worker


@pytest.fixture(scope="module")
def runpod_api(s3_endpoint, tmp_path_factory):
    args = ["runpod_handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port", "{port}"]
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("runpod_api"), args, "/") as (stack, url):
        yield stack, url


def test_runsync_with_the_make_com_request(runpod_api, sample_video, avatar_png):
    stack, api = runpod_api
    request = stack.make_request(sample_video, avatar_png, "runsync")
    answer = requests.post(f"{api}/runsync", json=request, timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=2, duration_s=30.0)


def test_run_then_status_with_older_field_names_and_a_plan(runpod_api, sample_video, avatar_png):
    stack, api = runpod_api
    request = stack.make_request(sample_video, avatar_png, "run-status", segments="0-2 swap, 2-end keep")
    body = request["input"]
    body["video_url"], body["avatar_url"] = body.pop("source_video_url"), body.pop("avatar_image_url")
    queued = requests.post(f"{api}/run", json=request, timeout=30).json()
    assert queued["status"] == "IN_PROGRESS" and queued["id"]
    # The SDK's local API runs the handler while answering /status.
    answer = requests.post(f"{api}/status/{queued['id']}", timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=30.0)


def test_a_bad_avatar_fails_everywhere_with_nothing_uploaded(runpod_api, sample_video, avatar_png):
    stack, api = runpod_api
    request = stack.make_request(sample_video, avatar_png, "bad-avatar")
    request["input"]["avatar_image_url"] = stack.serve_text_as("/bad-avatar/face.png", b"<html>Access denied</html>")
    answer = requests.post(f"{api}/runsync", json=request, timeout=300).json()
    assert answer["status"] == "FAILED", answer
    # Runpod's API keeps only `error` of a failed job: the failure is machine-readable there.
    failure = runpod_failure(answer)
    assert failure["error_message"].startswith("avatar_image_url:") and failure["error_code"] == "input_wrong_type"
    assert failure["record_id"] == request["input"]["record_id"] and failure["job_id"]
    assert_failed_everywhere(stack, request, "input_wrong_type")


def test_a_malformed_request_names_the_field(runpod_api):
    stack, api = runpod_api
    record_id = stack.airtable.seed({"Status": "Pending"})
    request = {"input": {"record_id": record_id, "source_video_url": "ftp://example.com/v.mp4",
                         "webhook_url": stack.webhook.url + "/hook/secret-path"}}
    answer = requests.post(f"{api}/runsync", json=request, timeout=60).json()
    assert answer["status"] == "FAILED", answer
    assert "'source_video_url' must be a http/https/s3 URL" in runpod_failure(answer)["error_message"]
    assert "missing 'avatar_image_url'" in runpod_failure(answer)["error_message"]
    assert_failed_everywhere(stack, request, "invalid_request")


def test_comfyui_started_once_for_all_jobs(runpod_api):
    stack, _ = runpod_api
    log = (stack.work_dir / "worker.log").read_text()
    assert log.count("starting ComfyUI under") == 1, "ComfyUI must start once per worker, not per job"


def test_the_log_holds_no_result_url_and_no_failed_progress_post(runpod_api, sample_video, avatar_png):
    stack, api = runpod_api
    request = stack.make_request(sample_video, avatar_png, "log-check", segments="0-1 swap, 1-end keep")
    output = requests.post(f"{api}/runsync", json=request, timeout=900).json()["output"]
    signature = parse_qs(urlparse(output["output_video_url"]).query)["X-Amz-Signature"][0]
    log = (stack.work_dir / "worker.log").read_text()
    assert signature not in log, "the customer's signed video URL is in the worker log"
    assert "Failed to return job results" not in log
