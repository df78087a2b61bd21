"""Pods mode: `ugc-swap serve` on uvicorn answers Make.com exactly like Runpod's /run, /runsync and /status."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import requests

from driver.c2pa_manifest import read_manifest
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader
from ugc_swap.core.video.watermark_pattern import payload_for, payload_hex

from .worker_check import assert_complete_everywhere, assert_failed_everywhere, runpod_failure
from .worker_stack import C2PA_TEST_CA, PODS_API_KEY, running_worker

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}


@pytest.fixture(scope="module")
def pods_api(s3_endpoint, tmp_path_factory):
    args = ["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    # This worker delivers half-done swaps for review instead of failing them (the Runpod worker fails them), and
    # runs only jobs with the customer's consent on record.
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("pods_api"), args, "/health",
                        UGC_SWAP_COVERAGE_ACTION="review", UGC_SWAP_REQUIRE_CONSENT="1") as (stack, url):
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
    request = stack.make_request(sample_video, avatar_png, "pods-run", segments="0-2 swap, 2-end keep",
                                 label="swapped")
    queued = requests.post(f"{api}/run", json=request, headers=AUTH, timeout=30).json()
    assert queued["status"] == "IN_QUEUE"
    deadline = time.monotonic() + 600
    answer, progress = queued, []
    while answer["status"] in ("IN_QUEUE", "IN_PROGRESS") and time.monotonic() < deadline:
        time.sleep(0.3)
        answer = requests.get(f"{api}/status/{queued['id']}", headers=AUTH, timeout=30).json()
        if answer.get("progress") and answer["progress"] not in progress:
            progress.append(answer["progress"])
    # One figure for the whole job that never goes back, and the step named (the stitch is not "swapping").
    shares = [int(text.split("%", 1)[0]) for text in progress]
    assert shares == sorted(shares) and len(shares) >= 3, progress
    steps = [text.split(" ", 1)[1].split(":")[0] for text in progress]
    assert "swapping faces" in steps and steps.index("swapping faces") < len(steps) - 1, progress
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=30.0)
    # The request asked for the visible label on the swapped frames: there at 1 s, not at 3 s.
    result = probe_video(stack.work_dir / "downloads" / f"{request['input']['record_id']}.mp4")
    assert read_manifest(result.path, C2PA_TEST_CA).swap["label"] == "swapped"  # verify reports the setting
    for second, labelled in ((1, True), (3, False)):
        index = second * 30
        before = next(iter(FrameReader(probe_video(sample_video), index, index + 1)))[:40, -260:].astype(int)
        after = next(iter(FrameReader(result, index, index + 1)))[:40, -260:].astype(int)
        assert (np.abs(after - before).max() > 60) == labelled, second


def test_a_failed_job_is_failed_with_its_result_kept(pods_api, sample_video, avatar_png, faceless_video):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-no-face")
    request["input"]["avatar_image_url"] = stack.files.serve_file("/pods-no-face/avatar.mp4", faceless_video)
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()
    assert answer["status"] == "FAILED" and runpod_failure(answer)["error_code"] == "input_wrong_type", answer
    assert answer["output"]["status"] == "Failed" and answer["output"]["error_code"] == "input_wrong_type"
    assert_failed_everywhere(stack, request, "input_wrong_type", answer["output"])


def test_a_half_done_swap_is_delivered_for_review_and_says_so_everywhere(pods_api, faceless_video, avatar_png):
    stack, api = pods_api
    request = stack.make_request(faceless_video, avatar_png, "pods-review", segments="0-3 swap, 3-end keep")
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    output = answer["output"]
    assert output["status"] == "Complete" and output["needs_review"] is True, output
    segment = output["coverage"]["segments"][0]
    assert (segment["covered"], segment["frames"], segment["skipped"]) == (0, 90, {"no_face": 90}), segment
    assert any(w.startswith("low coverage: 0-3 s") and "90 with no face found" in w for w in output["warnings"])
    webhook = [b for b in stack.webhook_bodies() if b.get("record_id") == request["input"]["record_id"]]
    assert len(webhook) == 1 and webhook[0]["needs_review"] is True and webhook[0]["status"] == "Complete"
    row = stack.airtable.fields_of(request["input"]["record_id"])
    assert row["Status"] == "Complete" and row["Output_Video_URL"] == output["output_video_url"]
    assert row["Error_Message"].startswith("[needs_review] low coverage: 0-3 s"), row


def test_a_job_without_consent_is_refused_before_anything_is_fetched(pods_api, sample_video, avatar_png):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-no-consent")
    del request["input"]["consent"]
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()
    assert answer["status"] == "FAILED" and answer["output"]["error_code"] == "consent_missing", answer
    assert "'consent' is missing" in answer["output"]["error_message"]
    assert not [hit for hit in stack.files.hits if hit.startswith("/pods-no-consent/")], "an input was fetched"
    assert_failed_everywhere(stack, request, "consent_missing", answer["output"])


def test_a_make_com_scenario_can_check_a_video_it_received(pods_api, sample_video, avatar_png):
    stack, api = pods_api
    request = stack.make_request(sample_video, avatar_png, "pods-verify", segments="0-5 swap, 5-10 keep, 10-15 swap, "
                                                                                 "15-end keep")
    made = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=900).json()["output"]
    # The invisible mark carries a hash of the record and job id; its payload is in the result and the manifest.
    assert made["watermark"] == payload_hex(payload_for(f"{request['input']['record_id']}:{made['job_id']}")), made
    answer = requests.post(f"{api}/runsync?wait=600000", json={"input": {"verify_url": made["output_video_url"]}},
                           headers=AUTH, timeout=300).json()
    assert answer["status"] == "COMPLETED" and answer["output"]["status"] == "Verified", answer
    check = answer["output"]["c2pa"]
    assert check["valid"] and check["trusted"] and check["swap"]["record_id"] == request["input"]["record_id"]
    assert check["swap"]["watermark"] == made["watermark"] and check["swap"]["label"] == "none"
    mark = answer["output"]["watermark"]
    assert mark["found"] and mark["payloads"] == [made["watermark"]], mark
    assert [round(segment["start_s"]) for segment in mark["segments"]] == [0, 10], mark
    assert "X-Amz" not in json.dumps(answer), "the signed URL must not come back"
    plain = stack.files.serve_file("/pods-verify/plain.mp4", sample_video, "video/mp4")
    unmarked = requests.post(f"{api}/runsync?wait=600000", json={"input": {"verify_url": plain}}, headers=AUTH,
                             timeout=300).json()["output"]
    assert unmarked["status"] == "Verified" and unmarked["c2pa"]["present"] is False
    assert unmarked["watermark"] == {"found": False, "payloads": [], "segments": []}


def test_the_api_key_is_required_and_health_is_open(pods_api):
    _, api = pods_api
    assert requests.post(f"{api}/run", json={"input": {}}, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert requests.get(f"{api}/status/whatever", headers=wrong, timeout=10).status_code == 401
    health = requests.get(f"{api}/health", timeout=10).json()
    assert set(health["jobs"]) >= {"completed", "failed", "inQueue", "inProgress"}
