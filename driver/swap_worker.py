"""One job request in, one result out: the orchestration every mode shares (Runpod handler, Pods server, watch).

Order matters for the guarantees in the README: the Airtable row says Processing before any work; inputs are
fetched and checked before ComfyUI sees them; nothing is uploaded unless the whole swap succeeded; the row, the
webhook and the returned result always agree; and the job's files are removed whatever happened.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ugc_swap.core.errors import UgcSwapError

from .airtable_rows import AirtableRows
from .comfy_service import ComfyService
from .config import DriverConfig
from .input_fetch import fetch_input
from .engine_models import check_engine_models
from .job_request import InvalidRequestError, JobRequest, parse_job_request, reply_to, request_body, webhook_problem
from .errors import ComfyUnavailableError, DiskSpaceError, ResultsStoreError
from .job_ledger import JobLedger
from .c2pa_manifest import read_manifest
from .job_provenance import check_consent, sign_result
from .job_quality import gpu_name, judge_coverage, judge_identity, review_note, with_report
from .job_result import FAILED, as_known_error, complete_result, failed_result, in_progress_result, resent
from .progress_text import ProgressReporter
from .s3_output import output_key, s3_client, upload_video
from .swap_job import SwapJob, SwapOutcome, check_avatar_photo, marking_defaults, run_swap_job
from .url_safety import check_url_destination
from .webhook import send_webhook

log = logging.getLogger(__name__)

ProgressSink = Callable[[str], None]


@dataclass
class SwapWorker:
    config: DriverConfig
    comfy: ComfyService
    airtable: AirtableRows | None = None
    _s3: Any = field(default=None, init=False, repr=False)

    @classmethod
    def from_config(cls, config: DriverConfig) -> SwapWorker:
        comfy = ComfyService(base_dir=config.work_dir / "comfyui", external_url=config.comfyui_url,
                             cpu=config.comfyui_cpu, models_dir=config.models_dir)
        return cls(config, comfy, AirtableRows(config.airtable) if config.airtable else None)

    def start(self) -> SwapWorker:
        """Check the engines' models and start ComfyUI now rather than on the first job, so a broken install
        fails the worker at boot with a message naming what is missing."""
        # An external server's models are its own business; without a base dir comfy.start() says what is wrong.
        if self.config.comfyui_url is None and self.comfy.base_dir is not None:
            models_dirs = [d for d in (self.config.models_dir, self.comfy.base_dir / "models") if d]
            check_engine_models(self.config.engines, models_dirs, os.environ, self.config.verify_model_hashes)
        self.comfy.start()
        return self

    def handle(self, event: Any, progress: ProgressSink | None = None) -> dict[str, Any]:
        """Run one request (Make.com's `{"input": {...}}` or the bare input); always returns a result dict.
        A request holding only `verify_url` checks that video's C2PA manifest instead (`verify_request`)."""
        body = request_body(event)
        if isinstance(body, dict) and "verify_url" in body and "source_video_url" not in body:
            return self.verify(body["verify_url"])
        job_id = uuid.uuid4().hex[:16]
        started, wall_started = time.monotonic(), time.time()
        timings: dict[str, float] = {}
        record_id, webhook_url = reply_to(event)
        work_dir = self.config.work_dir / "jobs" / job_id
        ledger, locked = self._ledger(), False
        try:
            request = parse_job_request(event)
            if request.engine not in self.config.engines:
                raise InvalidRequestError(f"'engine' {request.engine!r} is not offered by this worker "
                                          f"(UGC_SWAP_ENGINES={','.join(self.config.engines)})")
            if ledger is not None:
                earlier = None if request.force else ledger.finished(request.record_id)
                if earlier is not None:
                    log.info("record %s already has a video (job %s); answering with it", record_id, earlier["job_id"])
                    return self._report(resent(earlier, job_id, time.monotonic() - started), webhook_url)
                holder = ledger.claim(request.record_id, job_id)
                if holder is not None:
                    log.info("record %s is being made by job %s; not starting it twice", record_id, holder)
                    return in_progress_result(request.record_id, holder)
                locked = True
            self._check_disk_space()
            self._airtable("mark_processing", request.record_id)
            result = self._run(request, job_id, work_dir, timings, ProgressReporter(progress))
            if ledger is not None:
                self._keep_receipt(ledger, request.record_id, result, job_id)
        except Exception as exc:  # every failure, expected or not, must end as a Failed result
            error = as_known_error(exc)
            if error is not exc:
                log.exception("job %s failed unexpectedly", job_id)
            else:
                log.warning("job %s failed: %s", job_id, error)
            timings["total"] = round(time.monotonic() - started, 3)
            result = failed_result(record_id, job_id, error, timings)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
            self.comfy.remove_job_files(job_id, wall_started)
            if locked:
                ledger.release(record_id)
        return self._report(result, webhook_url, webhook_problem(event))

    def verify(self, url: Any) -> dict[str, Any]:
        """The C2PA check of a video at `url` (fetched under the same rules as a job's inputs), against this worker's
        own signing CA and UGC_SWAP_C2PA_TRUST_ANCHORS, and the watermark search: `{"status": "Verified", ...}`, or
        Failed for a bad URL."""
        folder = self.config.work_dir / "verify" / uuid.uuid4().hex[:16]
        try:
            if not isinstance(url, str):
                raise InvalidRequestError("'verify_url' must be a URL string")
            video = fetch_input(url, folder / "video", "video", "verify_url", self.config.limits,
                                self.config.address_policy, self._s3_client() if url.startswith("s3://") else None)
            from .verify import watermark_report  # numpy and the finder only when a video is checked

            check = read_manifest(video, self.config.c2pa_trust_anchors)
            return {"status": "Verified", "verify_url": url.split("?", 1)[0], "c2pa": check.as_dict(),
                    "watermark": watermark_report(video)}
        except Exception as exc:
            error = as_known_error(exc)
            return failed_result(None, "verify", error, {})
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, request: JobRequest, job_id: str, work_dir: Path, timings: dict[str, float],
             progress: ProgressReporter) -> dict[str, Any]:
        check_consent(request.consent, self.config.require_consent)  # before anything of the customer is fetched
        started = time.monotonic()
        progress.stage("downloading inputs")
        avatar = fetch_input(request.avatar_image_url, work_dir / "avatar_image", "image", "avatar_image_url",
                             self.config.limits, self.config.address_policy, self._s3_client_if_s3(request))
        # The photo is judged before the video is fetched: a refused face costs the customer seconds, not minutes.
        progress.stage("checking the avatar photo")
        self._check_avatar(avatar, job_id)
        target_face = None
        if request.target_face_url:
            target_face = fetch_input(request.target_face_url, work_dir / "target_face", "image", "target_face_url",
                                      self.config.limits, self.config.address_policy,
                                      self._s3_client_if_s3(request))
        video = fetch_input(request.source_video_url, work_dir / "source_video", "video", "source_video_url",
                            self.config.limits, self.config.address_policy, self._s3_client_if_s3(request))
        timings["download_inputs"] = round(time.monotonic() - started, 3)
        progress.stage("swapping faces")
        job = SwapJob(video, avatar, request.segments, request.engine, job_id, request.options,
                      self.config.quality.identity_rule, self.config.quality.min_coverage, target_face,
                      marking_defaults(self.config.label, self.config.watermark, request.record_id, job_id))
        outcome = self._swap(job, work_dir, progress)
        timings.update({k: v for k, v in outcome.timings_s.items() if k != "total"})
        quality = dict(outcome.quality)
        # A poor or half-done swap fails here when so configured: nothing of it is uploaded.
        judge_identity(quality, self.config.quality)
        judge_coverage(quality, self.config.quality)
        provenance = None
        if self.config.c2pa is not None:
            progress.stage("signing the result")
            provenance = sign_result(outcome.output_path, video, outcome.summary, job_id, request.record_id,
                                     request.consent, self.config.c2pa)
        progress.stage("uploading the result")
        upload_started = time.monotonic()
        settings = self.config.s3
        if settings is None:
            raise UgcSwapError("no S3 bucket configured (UGC_SWAP_S3_BUCKET); the result has nowhere to go")
        key = output_key(settings, request.record_id, job_id)
        url = upload_video(outcome.output_path, key, settings, self._s3_client())
        quality["preview_url"] = upload_video(outcome.sheet_path, key.removesuffix(".mp4") + "_preview.jpg", settings,
                                              self._s3_client(), content_type="image/jpeg")
        timings["upload"] = round(time.monotonic() - upload_started, 3)
        timings["total"] = round(time.monotonic() - started, 3)
        progress.stage("done")
        result = complete_result(request.record_id, job_id, url, outcome.prompt_id, outcome.summary, timings)
        result["c2pa"] = provenance or {"signed": False}
        return with_report(result, outcome.summary.get("stage_seconds", {}), quality, self.config.quality, gpu_name())

    def _check_avatar(self, avatar: Path, job_id: str) -> dict:
        """The avatar gate on a ComfyUI this worker runs (restarted once if it died); raises its refusal."""
        try:
            return check_avatar_photo(self.comfy.client(), avatar, job_id)
        except ComfyUnavailableError:
            if self.comfy.owned_base_dir is None:
                raise
            self.comfy.restart()
            return check_avatar_photo(self.comfy.client(), avatar, job_id)

    def _swap(self, job: SwapJob, work_dir: Path, progress: ProgressReporter) -> SwapOutcome:
        """Run the workflow; if the ComfyUI this worker owns dies mid-job, start it again and try once more."""
        try:
            return run_swap_job(self.comfy.client(), job, work_dir, self.config.job_timeout_s, progress.comfy_progress)
        except ComfyUnavailableError as first:
            if self.comfy.owned_base_dir is None:
                raise
            log.warning("ComfyUI stopped during job %s (%s); restarting it and running the job once more",
                        job.job_id, first.message)
        try:
            self.comfy.restart()
        except ComfyUnavailableError as failed:
            log.error("ComfyUI could not be started again: %s", failed.message)
            raise ComfyUnavailableError("ComfyUI stopped during the job and could not be started again "
                                        "(details in the worker log)") from None
        try:
            return run_swap_job(self.comfy.client(), job, work_dir, self.config.job_timeout_s, progress.comfy_progress)
        except ComfyUnavailableError as second:
            raise ComfyUnavailableError(f"ComfyUI stopped during the job twice; giving up ({second.message})") from None

    def _keep_receipt(self, ledger: JobLedger, record_id: str, result: dict[str, Any], job_id: str) -> None:
        """A lost receipt only means a repeat request makes the video again: the finished job stays Complete."""
        try:
            ledger.record_complete(record_id, result, output_key(self.config.s3, record_id, job_id))
        except ResultsStoreError as error:
            log.error("job %s: %s", job_id, error)

    def _check_disk_space(self) -> None:
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.config.work_dir).free
        if free < self.config.min_free_disk_bytes:
            raise DiskSpaceError(
                f"only {free / 1024**2:.0f} MB free in {self.config.work_dir}; a job needs at least "
                f"{self.config.min_free_disk_bytes / 1024**2:.0f} MB (UGC_SWAP_MIN_FREE_DISK_MB)"
            )

    def _ledger(self) -> JobLedger | None:
        if self.config.s3 is None:
            return None
        stale_after = self.config.job_timeout_s + 2 * self.config.limits.download_timeout_s + 600
        return JobLedger(self._s3_client(), self.config.s3, stale_after)

    def _s3_client(self):
        if self._s3 is None and self.config.s3 is not None:
            self._s3 = s3_client(self.config.s3)
        return self._s3

    def _s3_client_if_s3(self, request: JobRequest):
        urls = (request.source_video_url, request.avatar_image_url, request.target_face_url)
        uses_s3 = any(u and u.startswith("s3://") for u in urls)
        return self._s3_client() if uses_s3 else None

    def _report(self, result: dict[str, Any], webhook_url: str | None, problem: str | None = None) -> dict[str, Any]:
        """Airtable row and webhook get the same story as the caller; their own failures are reported, not raised."""
        record_id = result.get("record_id")
        if record_id:
            if result["status"] == FAILED:
                note = self._airtable("mark_failed", record_id, f"[{result['error_code']}] {result['error_message']}")
            else:
                note = self._airtable("mark_complete", record_id, result["output_video_url"],
                                      review_note(result))
            if note:
                result["airtable_error"] = note
        if webhook_url:
            result["webhook"] = self._send_webhook(webhook_url, result)
        elif problem:
            log.error("webhook not sent: %s", problem)
            result["webhook"] = {"delivered": False, "status_code": None, "error": problem}
        return result

    def _send_webhook(self, url: str, result: dict[str, Any]) -> dict[str, Any]:
        try:  # the webhook is as much an SSRF vector as the inputs: same address rules
            check_url_destination(url, self.config.address_policy, "webhook_url")
        except UgcSwapError as error:
            log.error("webhook not sent: %s", error)
            return {"delivered": False, "status_code": None, "error": str(error)}
        body = {k: v for k, v in result.items() if k != "airtable_error"}
        # A re-send is a message of its own: a receiver that drops duplicates must still see its fresh URL.
        key = f"{result['job_id']}-{result['status'].lower()}" + (f"-resent-{result['resent_by']}"
                                                                   if result.get("resent_by") else "")
        delivery = send_webhook(url, body, key, self.config.webhook)
        return {"delivered": delivery.delivered, "status_code": delivery.status_code, "error": delivery.error}

    def _airtable(self, method: str, record_id: str, *args: str | None) -> str | None:
        if self.airtable is None:
            return None
        try:
            getattr(self.airtable, method)(record_id, *args)
        except UgcSwapError as error:
            log.error("Airtable %s for %s failed: %s", method, record_id, error)
            return str(error)
        return None

