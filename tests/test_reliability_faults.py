"""Faults around a running job, each survived or reported, never a hung job (see docs/reliability.md).

A Pods worker runs against S3 behind a proxy that answers scripted errors, a webhook receiver and the Airtable
stand-in that fail on cue, and its own ComfyUI, which the tests kill with SIGKILL mid-job. Timeouts, websocket
drops and a full disk are driven through the same driver code in-process against the suite's ComfyUI.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import time
from fractions import Fraction

import pytest
import requests

from driver.comfy_client import ComfyClient
from driver.comfy_service import ComfyService
from driver.config import load_config
from driver.swap_job import SwapJob, run_swap_job
from driver.swap_worker import SwapWorker
from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video

from .fault_proxy import CuttableTcpProxy, FaultyHttpProxy
from .moto_s3 import aws_test_credentials
from .worker_check import assert_complete_everywhere, assert_failed_everywhere, runpod_failure
from .worker_stack import BUCKET, PODS_API_KEY, comfyui_pids, running_worker

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}
QUICK = "0-1 swap, 1-end keep"


@pytest.fixture(scope="module")
def s3_proxy(s3_endpoint):
    with FaultyHttpProxy(s3_endpoint) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def worker(s3_endpoint, s3_proxy, tmp_path_factory):
    args = ["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    overrides = {"UGC_SWAP_S3_ENDPOINT_URL": s3_proxy.url, "UGC_SWAP_WEBHOOK_TIMEOUT_S": "1",
                 "UGC_SWAP_WEBHOOK_ATTEMPTS": "3"}
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("faults"), args, "/health", **overrides) as running:
        yield running


@pytest.fixture(scope="module")
def slow_video(media_dir):
    """10 s of 720p: long enough to kill ComfyUI or time out in the middle of its swap."""
    return write_sample_video(media_dir / "slow_720p.mp4", SampleVideoSpec(1280, 720, Fraction(30), 10.0))


def runsync(api: str, request: dict) -> dict:
    return requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=700).json()


def test_s3_slow_down_is_retried(worker, s3_proxy, sample_video, avatar_png):
    stack, api = worker
    s3_proxy.fail_next("PUT", 503, count=2, path_part=".mp4")
    request = stack.make_request(sample_video, avatar_png, "s3-503", segments=QUICK)
    answer = runsync(api, request)
    assert answer["status"] == "COMPLETED", answer
    assert [status for method, path, status in s3_proxy.seen if method == "PUT" and ".mp4" in path] == [503, 503, 200]
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=30.0)


def test_s3_failing_for_good_fails_the_job_with_nothing_uploaded(worker, s3_proxy, sample_video, avatar_png):
    stack, api = worker
    s3_proxy.fail_next("PUT", 500, count=12, path_part=".mp4")
    request = stack.make_request(sample_video, avatar_png, "s3-500", segments=QUICK)
    answer = runsync(api, request)
    s3_proxy.failures.clear()
    assert answer["status"] == "FAILED" and runpod_failure(answer)["error_code"] == "upload_failed", answer
    assert_failed_everywhere(stack, request, "upload_failed", answer["output"])


@pytest.mark.parametrize("script, delivered, attempts", [
    pytest.param([(500, 0, {}), (429, 0, {"Retry-After": "0"}), (200, 0, {})], True, 3, id="500_then_429_then_ok"),
    pytest.param([(200, 2.5, {}), (200, 0, {})], True, 2, id="timeout_then_ok"),  # first try exceeds the 1 s timeout
    pytest.param([(500, 0, {})], False, 3, id="always_500"),
])
def test_webhook_trouble_is_retried_then_reported(worker, sample_video, avatar_png, script, delivered, attempts):
    stack, api = worker
    stack.webhook.requests.clear()
    stack.webhook.script = script
    request = stack.make_request(sample_video, avatar_png, "webhook", segments=QUICK)
    try:
        output = runsync(api, request)["output"]
    finally:
        stack.webhook.script = [(200, 0, {})]
    assert output["status"] == "Complete" and output["webhook"]["delivered"] is delivered
    assert len(stack.webhook.requests) == attempts
    assert len({r.headers["Idempotency-Key"] for r in stack.webhook.requests}) == 1, "retries must share one key"
    if not delivered:
        log = (stack.work_dir / "worker.log").read_text()
        assert "webhook to 127.0.0.1" in log and "answered HTTP 500 after 3 attempts" in log


def test_airtable_busy_is_retried(worker, sample_video, avatar_png):
    stack, api = worker
    request = stack.make_request(sample_video, avatar_png, "airtable-busy", segments=QUICK)
    stack.airtable.fail_next(429, 2)
    stack.airtable.fail_next(503, 1)
    output = runsync(api, request)["output"]
    assert output["status"] == "Complete" and "airtable_error" not in output
    assert stack.airtable.fields_of(request["input"]["record_id"])["Status"] == "Complete"
    assert [r.status for r in stack.airtable.requests[-6:]].count(429) >= 2


def test_airtable_refusing_a_field_is_a_clear_error_and_the_video_still_ships(worker, sample_video, avatar_png):
    stack, api = worker
    request = stack.make_request(sample_video, avatar_png, "airtable-422", segments=QUICK)
    known = stack.airtable.known_fields
    stack.airtable.known_fields = tuple(f for f in known if f != "Output_Video_URL")
    try:
        output = runsync(api, request)["output"]
    finally:
        stack.airtable.known_fields = known
    assert output["status"] == "Complete" and output["output_video_url"]
    assert "UNKNOWN_FIELD_NAME" in output["airtable_error"] and "Output_Video_URL" in output["airtable_error"]


def _frames_done(progress: str | None) -> int | None:
    """5 for '8% swapping faces: 5/300 frames', None before the swap reports frames."""
    step = progress.split(" ", 1)[1] if progress and "% " in progress else ""
    if not step.startswith("swapping faces:"):
        return None
    return int(step.split(":")[1].split("/")[0])


def kill_comfyui_while_swapping(api: str, stack, job_id: str, kills: int, first_at: int = 150) -> dict:
    """Poll the job and SIGKILL its ComfyUI mid-swap, up to `kills` times: first once `first_at` frames are done,
    then each time the retried run is seen swapping (its frame count went back down)."""
    killed: list[int] = []
    armed, last_done = True, 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = requests.get(f"{api}/status/{job_id}", headers=AUTH, timeout=30).json()
        if status["status"] in ("COMPLETED", "FAILED"):
            assert len(killed) == kills, f"the job ended after {len(killed)} kills"
            return status
        done = _frames_done(status.get("progress"))
        if done is not None:
            armed = armed or done < last_done
            threshold = first_at if not killed else 1
            pids = [p for p in comfyui_pids(stack.work_dir / "comfyui") if p not in killed]
            if armed and len(killed) < kills and pids and done >= threshold:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                armed = False
            last_done = done
        time.sleep(0.2)
    raise AssertionError("the job hung after ComfyUI was killed")


def test_comfyui_killed_mid_job_is_restarted_and_the_job_retried(worker, slow_video, avatar_png):
    stack, api = worker
    request = stack.make_request(slow_video, avatar_png, "comfy-killed-once", segments="0-10 swap")
    queued = requests.post(f"{api}/run", json=request, headers=AUTH, timeout=30).json()
    answer = kill_comfyui_while_swapping(api, stack, queued["id"], kills=1)
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=10.0)
    assert "restarting it and running the job once more" in (stack.work_dir / "worker.log").read_text()


def test_comfyui_killed_twice_fails_clearly_and_the_next_job_runs(worker, slow_video, sample_video, avatar_png):
    stack, api = worker
    request = stack.make_request(slow_video, avatar_png, "comfy-killed-twice", segments="0-10 swap")
    queued = requests.post(f"{api}/run", json=request, headers=AUTH, timeout=30).json()
    answer = kill_comfyui_while_swapping(api, stack, queued["id"], kills=2)
    assert answer["status"] == "FAILED", answer
    assert "stopped during the job twice" in runpod_failure(answer)["error_message"], answer
    assert_failed_everywhere(stack, request, "comfyui_unavailable", answer["output"])
    after = stack.make_request(sample_video, avatar_png, "after-kills", segments=QUICK)
    assert runsync(api, after)["status"] == "COMPLETED"


@pytest.fixture
def inprocess_worker(comfyui, s3_endpoint, tmp_path, monkeypatch):
    """A SwapWorker in this process, on the suite's ComfyUI, with results in moto."""
    aws_test_credentials(monkeypatch)
    requests.post(s3_endpoint + "/moto-api/reset", timeout=5)
    config = load_config({"UGC_SWAP_S3_BUCKET": BUCKET, "UGC_SWAP_S3_ENDPOINT_URL": s3_endpoint,
                          "UGC_SWAP_ALLOWED_PRIVATE_HOSTS": "127.0.0.1", "UGC_SWAP_WORK_DIR": str(tmp_path),
                          "UGC_SWAP_COMFYUI_URL": comfyui.url, "UGC_SWAP_C2PA": "off"})
    worker = SwapWorker(config, ComfyService(external_url=comfyui.url))
    worker._s3_client().create_bucket(Bucket=BUCKET)
    return worker


def test_a_job_over_its_timeout_is_interrupted_and_comfyui_stays_usable(inprocess_worker, slow_video, avatar_png,
                                                                       sample_video):
    from .file_server import FileServer

    worker = dataclasses.replace(inprocess_worker, config=dataclasses.replace(inprocess_worker.config,
                                                                               job_timeout_s=4.0))
    with FileServer() as files:
        slow = {"record_id": "recTimeout", "source_video_url": files.serve_file("/slow.mp4", slow_video),
                "avatar_image_url": files.serve_file("/a.png", avatar_png), "segments": "0-10 swap"}
        started = time.monotonic()
        result = worker.handle({"input": slow})
        assert result["status"] == "Failed" and result["error_code"] == "job_timeout", result
        assert time.monotonic() - started < 60, "the timeout did not stop the job"
        quick = {**slow, "record_id": "recAfterTimeout", "source_video_url": files.serve_file("/q.mp4", sample_video),
                 "segments": QUICK}
        assert inprocess_worker.handle({"input": quick})["status"] == "Complete"


def test_a_nearly_full_disk_fails_before_any_work(inprocess_worker, avatar_png):
    from .file_server import FileServer

    worker = dataclasses.replace(inprocess_worker, config=dataclasses.replace(inprocess_worker.config,
                                                                               min_free_disk_bytes=10**18))
    with FileServer() as files:
        request = {"record_id": "recDisk", "source_video_url": files.serve_file("/v.mp4", avatar_png),
                   "avatar_image_url": files.serve_file("/a.png", avatar_png)}
        result = worker.handle({"input": request})
        assert result["error_code"] == "insufficient_disk" and "UGC_SWAP_MIN_FREE_DISK_MB" in result["error_message"]
        assert files.hits == [], "nothing may be downloaded when the disk is full"


def test_a_dropped_websocket_falls_back_and_the_job_finishes(comfyui, sample_video, avatar_png, tmp_path, caplog):
    port = int(comfyui.url.rsplit(":", 1)[1])
    job = SwapJob(sample_video, avatar_png, "0-4 swap, 4-end keep")
    open_when_cut: list[int] = []

    def cut_mid_swap(node, value, maximum):  # the network drops while the job runs, 30 frames into the swap
        if not open_when_cut and value >= 30:
            open_when_cut.append(proxy.cut_all())

    with CuttableTcpProxy(port) as proxy, caplog.at_level(logging.WARNING, logger="driver.comfy_client"):
        result = run_swap_job(ComfyClient(proxy.url), job, tmp_path, timeout_s=300, on_progress=cut_mid_swap)
    assert open_when_cut and open_when_cut[0] >= 1, "the websocket should have been open when the network dropped"
    assert "websocket dropped" in caplog.text, "the client must have taken its fallback"
    assert result.output_path.is_file() and result.summary["frames_swapped"] == 120


class _ForgottenSocketClient(ComfyClient):
    """Reproduces ComfyUI's reconnect race on demand: a second socket under the same client id, closed at once,
    makes the server drop that id, so the job's own socket stays open but hears nothing."""

    def _connect_ws(self, client_id):
        ws = super()._connect_ws(client_id)
        twin = super()._connect_ws(client_id)
        twin.close()
        time.sleep(0.5)  # let the server run the twin's cleanup
        return ws


def test_a_socket_comfyui_has_forgotten_still_lets_the_job_finish(comfyui, sample_video, avatar_png, tmp_path):
    job = SwapJob(sample_video, avatar_png, QUICK)
    started = time.monotonic()
    result = run_swap_job(_ForgottenSocketClient(comfyui.url), job, tmp_path, timeout_s=240)
    assert result.output_path.is_file() and result.summary["frames_swapped"] == 30
    assert time.monotonic() - started < 200, "the job should end by polling /history, not by its timeout"


def test_a_worker_whose_comfyui_cannot_start_again_asks_runpod_for_a_new_one(s3_endpoint, sample_video, avatar_png,
                                                                            tmp_path, monkeypatch):
    """ComfyUI dies and its code is gone (a broken disk, a bad image layer): the restart fails, the job fails with
    comfyui_unavailable, and the Runpod handler's answer carries refresh_worker so Runpod replaces the worker."""
    from driver.job_result import for_runpod_api

    from .file_server import FileServer

    aws_test_credentials(monkeypatch)
    requests.post(s3_endpoint + "/moto-api/reset", timeout=5)
    config = load_config({"UGC_SWAP_S3_BUCKET": BUCKET, "UGC_SWAP_S3_ENDPOINT_URL": s3_endpoint,
                          "UGC_SWAP_ALLOWED_PRIVATE_HOSTS": "127.0.0.1", "UGC_SWAP_WORK_DIR": str(tmp_path),
                          "UGC_SWAP_C2PA": "off", "UGC_SWAP_ENGINES": "fast"})
    comfy = ComfyService(base_dir=tmp_path / "comfyui", cpu=True, ready_timeout_s=120).start()
    worker = SwapWorker(config, comfy)
    worker._s3_client().create_bucket(Bucket=BUCKET)
    try:
        for pid in comfyui_pids(tmp_path / "comfyui"):
            os.kill(pid, signal.SIGKILL)
        empty = tmp_path / "no_comfyui_here"
        empty.mkdir()
        monkeypatch.setenv("UGC_SWAP_COMFYUI_DIR", str(empty))
        with FileServer() as files:
            request = {"record_id": "recBroken", "source_video_url": files.serve_file("/v.mp4", sample_video),
                       "avatar_image_url": files.serve_file("/a.png", avatar_png)}
            result = worker.handle({"input": request})
        assert result["status"] == "Failed" and result["error_code"] == "comfyui_unavailable", result
        assert comfy.broken
        answer = for_runpod_api(result, replace_worker=comfy.broken)  # what runpod_handler.handler returns
        assert answer["refresh_worker"] is True and runpod_failure(answer)["record_id"] == "recBroken"
        assert "refresh_worker" not in for_runpod_api(result)
    finally:
        comfy.stop()
