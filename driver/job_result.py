"""The two result shapes a job ends in, identical in the Runpod/Pods response, the webhook body and the CLI.

Make.com maps these fields straight into the Airtable row, so the names are part of the contract (README).
"""

from __future__ import annotations

import json

from typing import Any

from ugc_swap.core.errors import UgcSwapError

COMPLETE = "Complete"
FAILED = "Failed"
PROCESSING = "Processing"


class InternalError(UgcSwapError):
    code = "internal_error"


def complete_result(
    record_id: str,
    job_id: str,
    output_video_url: str,
    prompt_id: str,
    summary: dict[str, Any],
    timings_s: dict[str, float],
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "status": COMPLETE,
        "output_video_url": output_video_url,
        "duration_s": summary["duration_s"],
        "segments_swapped": summary["segments_swapped"],
        "frames_with_face": summary["frames_with_face"],
        "frames_swapped": summary["frames_swapped"],
        "engine": summary["engine"],
        "warnings": summary["warnings"],
        "watermark": summary.get("watermark"),  # the invisible mark's payload, None when marking is off
        "timings_s": timings_s,
        "prompt_id": prompt_id,
        "job_id": job_id,
    }


def failed_result(record_id: str | None, job_id: str, error: UgcSwapError, timings_s: dict[str, float]) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "status": FAILED,
        "error_code": error.code,
        "error_message": error.message,
        "timings_s": timings_s,
        "job_id": job_id,
    }


def in_progress_result(record_id: str, job_id: str) -> dict[str, Any]:
    """The answer to a repeat of a record that another job is making right now: no second job, no webhook
    (the running job sends it), no Airtable change."""
    return {"record_id": record_id, "status": PROCESSING, "job_id": job_id, "duplicate": True,
            "message": f"record {record_id} is already being made by job {job_id}; its result will follow"}


def as_known_error(exc: BaseException) -> UgcSwapError:
    """Our own errors pass through; anything else is reported by type only, as its text may quote a secret."""
    if isinstance(exc, UgcSwapError):
        return exc
    return InternalError(f"unexpected {type(exc).__name__} in the worker (details in the worker log)")


def for_runpod_api(result: dict[str, Any], replace_worker: bool = False) -> dict[str, Any]:
    """The result as a Runpod-style handler returns it: a Failed job also carries `error`, which makes the job
    FAILED in Runpod's (and our Pods server's) /status. Runpod's API keeps only `error` of a failed job, so it is
    the failure as a JSON string ({"error_code", "error_message", "record_id", "job_id"}) a Make.com scenario
    parses, not prose.
    `replace_worker` (ComfyUI could not be started again) adds `refresh_worker`: Runpod then replaces this worker
    instead of sending it the next job."""
    answer = result
    if result.get("status") == FAILED:
        failure = {k: result.get(k) for k in ("error_code", "error_message", "record_id", "job_id")}
        answer = {**result, "error": json.dumps(failure)}
    return {**answer, "refresh_worker": True} if replace_worker else answer


def resent(earlier: dict[str, Any], job_id: str, elapsed_s: float) -> dict[str, Any]:
    """A repeat of a record that already has its video: the earlier result with fresh URLs, said to be a re-send
    (by `job_id`, this request's) with this request's own time and cost; the making's figures under `original`."""
    original = {k: earlier[k] for k in ("timings_s", "stages_s", "cost") if k in earlier}
    answer = {k: v for k, v in earlier.items() if k not in original}
    return {**answer, "reused": True, "resent_by": job_id, "original": original,
            "timings_s": {"total": round(elapsed_s, 3)}, "cost": {"usd": 0.0, "seconds": round(elapsed_s, 3)}}
