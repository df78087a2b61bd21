"""One set of assertions for a finished job, whichever mode ran it: the result, S3, the webhook and Airtable agree."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import requests

from driver.c2pa_manifest import DIGITAL_SOURCE_TYPE, read_manifest
from ugc_swap.core.video.video_probe import probe_video

from .worker_stack import BUCKET, C2PA_TEST_CA, SECRETS, WorkerStack

# Strings that must never appear in a result, a webhook body or the worker's log.
_INPUT_SECRETS = ("presigned-sig", "secret-path")


def _webhook_for(stack: WorkerStack, record_id: str) -> dict:
    bodies = [b for b in stack.webhook_bodies() if b.get("record_id") == record_id]
    assert len(bodies) == 1, f"expected one webhook for {record_id}, got {bodies}"
    return bodies[0]


def _assert_nothing_left_and_nothing_leaked(stack: WorkerStack, result: dict) -> None:
    assert stack.comfyui_job_files() == [], "job files left in ComfyUI's folders"
    assert list((stack.work_dir / "jobs").glob("*")) == [], "job work folder not removed"
    text = json.dumps(result)
    log_path = stack.work_dir / "worker.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    for secret in (*SECRETS, *_INPUT_SECRETS):
        assert secret not in text, f"{secret!r} leaked into the result"
        assert secret not in log, f"{secret!r} leaked into the worker log"


def assert_complete_everywhere(stack: WorkerStack, request: dict, output: dict, expected_segments: int,
                               duration_s: float) -> None:
    record_id = request["input"]["record_id"]
    assert output["status"] == "Complete" and output["record_id"] == record_id, output
    assert output["engine"] == "fast" and len(output["segments_swapped"]) == expected_segments
    assert abs(output["duration_s"] - duration_s) < 0.1 and output["prompt_id"]
    assert {"download_inputs", "comfyui", "upload", "total"} <= set(output["timings_s"])
    assert output["webhook"]["delivered"] is True and "airtable_error" not in output

    key = urlparse(output["output_video_url"]).path.removeprefix(f"/{BUCKET}/")
    assert key.startswith(f"ugc-swap/{record_id}/")
    # The bucket holds the result, its preview and the receipt: no copy of the customer's photo or video.
    listed = stack.s3().list_objects_v2(Bucket=BUCKET, Prefix=f"ugc-swap/{record_id}/")["Contents"]
    given = request["input"]
    inputs = {stack.files.routes[urlparse(given.get(name) or given[old]).path].file.stat().st_size
              for name, old in (("source_video_url", "video_url"), ("avatar_image_url", "avatar_url"))}
    for stored in listed:
        assert stored["Key"].endswith((".mp4", "_preview.jpg", "/_result.json")), stored["Key"]
        assert stored["Size"] not in inputs, f"{stored['Key']} looks like a copy of an input"
    assert stack.s3().head_object(Bucket=BUCKET, Key=key)["ContentType"] == "video/mp4"
    downloaded = stack.work_dir / "downloads" / f"{record_id}.mp4"
    downloaded.parent.mkdir(exist_ok=True)
    downloaded.write_bytes(requests.get(output["output_video_url"], timeout=30).content)
    info = probe_video(downloaded)
    assert abs(info.duration_s - duration_s) < 0.1 and info.has_audio
    # Marked as AI-generated: a manifest signed by the deployer's certificate, saying what was swapped and with
    # whose consent (read back with the CA as trust anchor, as a platform that trusts the deployer would).
    manifest = read_manifest(downloaded, C2PA_TEST_CA)
    assert manifest.valid and manifest.trusted, manifest.problems
    assert manifest.digital_source_type == DIGITAL_SOURCE_TYPE
    assert manifest.swap["consent"] == request["input"].get("consent") and manifest.swap["record_id"] == record_id
    assert [tuple(r) for r in manifest.swap["swapped_ranges_s"]] == [
        (s["start_s"], s["end_s"]) for s in output["segments_swapped"]]
    assert output["c2pa"]["signed"] is True and output["c2pa"]["local_signer"] is False

    assert set(output["stages_s"]) >= {"download", "preprocess", "swap", "stitch", "quality", "upload"}
    assert output["cost"]["device"] == "cpu" and output["cost"]["usd"] == 0.0 and output["cost"]["seconds"] > 0
    preview = requests.get(output["preview_url"], timeout=30)
    assert preview.headers["Content-Type"] == "image/jpeg" and preview.content[:3] == b"\xff\xd8\xff"
    if output["frames_with_face"]:
        # Measured both ways per segment; whether this sample pair passes is the face-pair tests' business.
        identity = output["identity"]
        for segment in identity["segments"]:
            assert segment["to_avatar"] is not None and segment["to_filmed"] is not None, identity
        assert identity["poor"] == any(w.startswith("poor identity") for w in output["warnings"]), identity
    webhook = _webhook_for(stack, record_id)
    assert webhook == {k: v for k, v in output.items() if k != "webhook"}
    row = stack.airtable.fields_of(record_id)
    assert row["Status"] == "Complete" and row["Output_Video_URL"] == output["output_video_url"]
    assert not row.get("Error_Message")
    _assert_nothing_left_and_nothing_leaked(stack, output)


def assert_failed_everywhere(stack: WorkerStack, request: dict, code: str, result: dict | None = None) -> None:
    record_id = request["input"]["record_id"]
    webhook = _webhook_for(stack, record_id)
    assert webhook["status"] == "Failed" and webhook["error_code"] == code and webhook["error_message"]
    row = stack.airtable.fields_of(record_id)
    assert row["Status"] == "Failed" and row["Error_Message"].startswith(f"[{code}]"), row
    listed = stack.s3().list_objects_v2(Bucket=BUCKET, Prefix=f"ugc-swap/{record_id}/")
    assert listed.get("KeyCount", 0) == 0, "a failed job uploaded something"
    _assert_nothing_left_and_nothing_leaked(stack, result or webhook)


def runpod_failure(answer: dict) -> dict:
    """A FAILED job's `error`, as Runpod's API (and the Pods server) keeps it: the failure as JSON."""
    return json.loads(answer["error"])
