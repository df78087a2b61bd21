"""One output per record_id, across workers: a lock and a receipt per record, kept in the results bucket.

Make.com retries, people double-click, Runpod may run a request twice. Before work starts the worker takes the
record's lock with a conditional PUT (If-None-Match: *), which S3 grants to exactly one caller; a lock older
than the job timeout is taken over (its worker died). A finished job leaves a receipt holding its result, so a
repeat answers with the existing video (a fresh presigned URL) instead of making another, unless forced.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import ResultsStoreError
from .s3_output import S3Settings, record_prefix, video_url

log = logging.getLogger(__name__)


@dataclass
class JobLedger:
    client: Any
    settings: S3Settings
    stale_after_s: float

    def _key(self, record_id: str, name: str) -> str:
        return f"{record_prefix(self.settings, record_id)}{name}"

    def finished(self, record_id: str) -> dict[str, Any] | None:
        with _store_errors("read the receipt of", record_id):
            return self._finished(record_id)

    def _finished(self, record_id: str) -> dict[str, Any] | None:
        """The receipt of the record's last Complete job, its video URL made fresh; None if there is none."""
        body = self._read(self._key(record_id, "_result.json"))
        if body is None:
            return None
        if not self._exists(body["video_key"]):  # deleted by the retention rule (or by hand): make it again
            log.info("record %s: its earlier video is gone; the receipt is not reused", record_id)
            return None
        result = body["result"]
        result["output_video_url"] = video_url(self.client, self.settings, body["video_key"])
        if result.get("preview_url"):  # signed afresh too, or it dies with the first one
            preview_key = body["video_key"].removesuffix(".mp4") + "_preview.jpg"
            result["preview_url"] = video_url(self.client, self.settings, preview_key)
        return result

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.settings.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def claim(self, record_id: str, job_id: str) -> str | None:
        """Take the record's lock for `job_id`; returns None when taken, else the job id that holds it."""
        with _store_errors("lock", record_id):
            return self._claim(record_id, job_id)

    def _claim(self, record_id: str, job_id: str) -> str | None:
        key = self._key(record_id, "_running.json")
        body = json.dumps({"job_id": job_id, "since": time.time()}).encode()
        for _attempt in range(2):
            try:
                self.client.put_object(Bucket=self.settings.bucket, Key=key, Body=body, IfNoneMatch="*",
                                       ContentType="application/json")
                return None
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                    raise
            holder = self._read(key)
            if holder is not None and time.time() - holder.get("since", 0) < self.stale_after_s:
                return str(holder.get("job_id"))
            log.warning("record %s: taking over a stale lock from job %s", record_id, holder and holder.get("job_id"))
            self.client.delete_object(Bucket=self.settings.bucket, Key=key)
        return None

    def release(self, record_id: str) -> None:
        try:
            self.client.delete_object(Bucket=self.settings.bucket, Key=self._key(record_id, "_running.json"))
        except (BotoCoreError, ClientError) as exc:  # the lock goes stale and is taken over later
            log.error("record %s: could not release its lock (%s)", record_id, type(exc).__name__)

    def record_complete(self, record_id: str, result: dict[str, Any], video_key: str) -> None:
        body = json.dumps({"result": result, "video_key": video_key}).encode()
        with _store_errors("write the receipt of", record_id):
                self.client.put_object(Bucket=self.settings.bucket, Key=self._key(record_id, "_result.json"),
                                       Body=body, ContentType="application/json", **self.settings.object_tags)

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.client.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise


@contextmanager
def _store_errors(action: str, record_id: str) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise ResultsStoreError(f"cannot {action} record {record_id} in the results bucket ({type(exc).__name__})") from None
