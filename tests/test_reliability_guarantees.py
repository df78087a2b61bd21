"""Guarantees across jobs: one output per record_id, no secret anywhere, concurrent jobs never mix files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from driver.s3_output import S3Settings, record_prefix

from .worker_check import assert_complete_everywhere, assert_failed_everywhere
from .worker_stack import BUCKET, PODS_API_KEY, SECRETS, comfyui_pids, running_worker

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}
QUICK = "0-1 swap, 1-end keep"


@pytest.fixture(scope="module")
def worker(s3_endpoint, tmp_path_factory):
    args = ["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("guarantees"), args, "/health") as running:
        yield running


def runsync(api: str, request: dict) -> dict:
    answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=AUTH, timeout=700).json()
    assert answer["status"] == "COMPLETED", answer
    return answer["output"]


def videos_of(stack, record_id: str) -> list[str]:
    prefix = record_prefix(S3Settings(bucket=BUCKET), record_id)
    listed = stack.s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed if o["Key"].endswith(".mp4"))


def test_the_same_record_twice_gives_one_video_unless_forced(worker, sample_video, avatar_png):
    stack, api = worker
    request = stack.make_request(sample_video, avatar_png, "twice", segments=QUICK)
    record_id = request["input"]["record_id"]
    first = runsync(api, request)
    again = runsync(api, request)
    assert again["status"] == "Complete" and again["reused"] is True and again["job_id"] == first["job_id"]
    assert again["output_video_url"].split("?")[0] == first["output_video_url"].split("?")[0]
    assert len(videos_of(stack, record_id)) == 1
    assert [b["status"] for b in stack.webhook_bodies() if b["record_id"] == record_id] == ["Complete", "Complete"]
    # The re-send is a message of its own (its own key, its own time and cost; the making's figures kept apart),
    # so a receiver that drops duplicate keys still gets the fresh URL.
    keys = [r.headers.get("Idempotency-Key") for r in stack.webhook.requests
            if json.loads(r.body)["record_id"] == record_id]
    assert len(set(keys)) == 2, keys
    assert again["resent_by"] and again["resent_by"] != first["job_id"] and again["cost"]["usd"] == 0.0
    assert again["original"]["timings_s"] == first["timings_s"] and again["timings_s"] != first["timings_s"]
    forced = runsync(api, {"input": {**request["input"], "force": True}})
    assert forced["job_id"] != first["job_id"] and "reused" not in forced
    assert len(videos_of(stack, record_id)) == 2


def test_a_record_being_made_elsewhere_is_not_started_twice(worker, sample_video, avatar_png):
    stack, api = worker
    request = stack.make_request(sample_video, avatar_png, "running-elsewhere", segments=QUICK)
    record_id = request["input"]["record_id"]
    lock = f"{record_prefix(S3Settings(bucket=BUCKET), record_id)}_running.json"
    stack.s3().put_object(Bucket=BUCKET, Key=lock, Body=json.dumps({"job_id": "other-worker", "since": time.time()}))
    busy = runsync(api, request)
    assert busy == {"record_id": record_id, "status": "Processing", "job_id": "other-worker", "duplicate": True,
                    "message": busy["message"]}
    assert videos_of(stack, record_id) == [] and stack.airtable.fields_of(record_id)["Status"] == "Pending"
    assert not [b for b in stack.webhook_bodies() if b["record_id"] == record_id], "the running job reports, not us"
    # A lock left by a worker that died long ago is taken over.
    stack.s3().put_object(Bucket=BUCKET, Key=lock, Body=json.dumps({"job_id": "dead-worker", "since": 0}))
    output = runsync(api, request)
    assert_complete_everywhere(stack, request, output, expected_segments=1, duration_s=30.0)
    assert stack.s3().list_objects_v2(Bucket=BUCKET, Prefix=lock)["KeyCount"] == 0, "the lock must be released"


def test_concurrent_jobs_never_mix_files(worker, sample_video, faceless_video, avatar_png):
    stack, api = worker
    first = stack.make_request(sample_video, avatar_png, "concurrent-a", segments="0-2 swap, 2-end keep")
    second = stack.make_request(faceless_video, avatar_png, "concurrent-b", segments="0-3 swap, 3-end keep")
    ids = [requests.post(f"{api}/run", json=r, headers=AUTH, timeout=30).json()["id"] for r in (first, second)]
    outputs = []
    for job_id in ids:
        deadline = time.monotonic() + 600
        while (answer := requests.get(f"{api}/status/{job_id}", headers=AUTH, timeout=30).json())["status"] not in (
                "COMPLETED", "FAILED") and time.monotonic() < deadline:
            time.sleep(0.5)
        outputs.append(answer["output"])
    assert_complete_everywhere(stack, first, outputs[0], expected_segments=1, duration_s=30.0)
    assert outputs[0]["segments_swapped"][0]["end_s"] == 2.0
    # The faceless video's swap segment showed nobody: a half-done job fails (low_coverage), and its message
    # counts its own 90 frames, none of them someone else's.
    assert_failed_everywhere(stack, second, "low_coverage")
    webhook = [b for b in stack.webhook_bodies() if b.get("record_id") == second["input"]["record_id"]][0]
    assert "0 of 90 frames" in webhook["error_message"] and "90 with no face found" in webhook["error_message"]


def test_no_secret_reaches_a_log_result_webhook_or_airtable(worker, sample_video, avatar_png):
    stack, api = worker
    bad = stack.make_request(sample_video, avatar_png, "secrets-bad")
    bad["input"]["avatar_image_url"] = stack.serve_text_as("/secrets/face.png", b"nope")
    requests.post(f"{api}/runsync?wait=600000", json=bad, headers=AUTH, timeout=700)
    runsync(api, stack.make_request(sample_video, avatar_png, "secrets-good", segments=QUICK))
    places = {
        "worker log": (stack.work_dir / "worker.log").read_text(errors="replace"),
        "webhooks": json.dumps(stack.webhook_bodies()) + json.dumps([dict(r.headers) for r in stack.webhook.requests]),
        "airtable": json.dumps([r.body for r in stack.airtable.requests]),
    }
    for place, text in places.items():
        for secret in (*SECRETS, "presigned-sig", "secret-path"):
            assert secret not in text, f"{secret!r} leaked into the {place}"


def test_comfyui_runs_without_the_workers_secrets(worker):
    stack, _ = worker
    [pid] = comfyui_pids(stack.work_dir / "comfyui")
    environment = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    for secret in (*SECRETS, "AWS_SECRET_ACCESS_KEY", "UGC_SWAP_C2PA_KEY", "UGC_SWAP_WEBHOOK_SECRET"):
        assert secret not in environment, f"ComfyUI's process holds {secret!r}"
    assert "PATH=" in environment, "ComfyUI still needs its ordinary environment"


@pytest.mark.parametrize("entry", [pytest.param(["-m", "driver", "serve", "--port", "0"], id="pods"),
                                   pytest.param(["runpod_handler.py", "--rp_serve_api"], id="runpod")])
def test_workers_refuse_to_start_with_bad_configuration(entry, tmp_path):
    import subprocess
    import sys

    from .worker_stack import REPO

    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith(("UGC_SWAP_S3", "UGC_SWAP_AIRTABLE", "UGC_SWAP_C2PA"))}
    env.update(UGC_SWAP_WORK_DIR=str(tmp_path), UGC_SWAP_JOB_TIMEOUT_S="soon",
               UGC_SWAP_AIRTABLE_API_KEY="patSECRET.key-value")
    started = time.monotonic()
    finished = subprocess.run([sys.executable, *entry], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0 and time.monotonic() - started < 60
    for name in ("UGC_SWAP_S3_BUCKET is missing", "UGC_SWAP_JOB_TIMEOUT_S must be a number", "UGC_SWAP_AIRTABLE_BASE_ID",
                 "no signing certificate is set"):
        assert name in output, output[-2000:]
    assert "patSECRET" not in output
    assert not (tmp_path / "comfyui").exists(), "nothing may start before the configuration is valid"
