"""`ugc-swap watch --once`: the driver runs Airtable rows in Pending and Retry by itself, no Make.com involved."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .moto_s3 import aws_test_credentials
from .worker_check import assert_failed_everywhere
from .worker_stack import BUCKET, REPO, SECRETS, WorkerStack


def test_watch_runs_pending_and_retry_rows_and_leaves_the_rest(s3_endpoint, tmp_path, sample_video, avatar_png,
                                                               monkeypatch):
    aws_test_credentials(monkeypatch)
    with WorkerStack(s3_endpoint, tmp_path) as stack:
        pending = stack.make_request(sample_video, avatar_png, "pending", segments="0-2 swap, 2-end keep")
        retry = stack.make_request(sample_video, avatar_png, "retry")
        broken = stack.make_request(sample_video, avatar_png, "broken")
        broken["input"]["avatar_image_url"] = stack.serve_text_as("/broken/face.png", b"not an image at all")
        rows = {name: request["input"]["record_id"] for name, request in
                (("pending", pending), ("retry", retry), ("broken", broken))}
        airtable = stack.airtable
        # The watcher reads the job from the row itself: URLs, plan, webhook.
        airtable.seed_fields(rows["pending"], {"Segments": "0-2 swap, 2-end keep",
                                               "Webhook_URL": pending["input"]["webhook_url"]})
        airtable.seed_fields(rows["retry"], {"Status": "Retry"})
        airtable.seed_fields(rows["broken"], {"Avatar_Image_URL": broken["input"]["avatar_image_url"],
                                              "Webhook_URL": broken["input"]["webhook_url"]})
        busy = airtable.seed({"Status": "Processing", "Source_Video_URL": "http://127.0.0.1:9/x.mp4"})
        done = airtable.seed({"Status": "Complete", "Output_Video_URL": "https://example.com/old.mp4"})

        finished = subprocess.run([sys.executable, "-m", "driver", "watch", "--once"], cwd=REPO,
                                  env=stack.environment(), capture_output=True, text=True, timeout=600)
        log = finished.stdout + finished.stderr
        assert finished.returncode == 0, log[-3000:]
        assert "ran 3 row(s)" in log

        for name in ("pending", "retry"):
            row = airtable.fields_of(rows[name])
            assert row["Status"] == "Complete", (name, row)
            key = row["Output_Video_URL"].split(f"/{BUCKET}/", 1)[1].split("?")[0]
            assert stack.s3().head_object(Bucket=BUCKET, Key=key)["ContentType"] == "video/mp4"
        assert [b["status"] for b in stack.webhook_bodies() if b["record_id"] == rows["pending"]] == ["Complete"]
        (stack.work_dir / "worker.log").write_text(log)
        assert_failed_everywhere(stack, broken, "input_wrong_type")
        assert airtable.fields_of(busy)["Status"] == "Processing"
        assert airtable.fields_of(done) == {"Status": "Complete", "Output_Video_URL": "https://example.com/old.mp4"}
        for secret in SECRETS:
            assert secret not in log


@pytest.mark.parametrize("missing", ["UGC_SWAP_AIRTABLE_TABLE", "UGC_SWAP_S3_BUCKET"])
def test_watch_refuses_to_start_with_incomplete_configuration(s3_endpoint, tmp_path, monkeypatch, missing):
    aws_test_credentials(monkeypatch)
    with WorkerStack(s3_endpoint, tmp_path) as stack:
        env = stack.environment()
        env.pop(missing)
        finished = subprocess.run([sys.executable, "-m", "driver", "watch", "--once"], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert missing in finished.stderr and "invalid_configuration" in finished.stderr
