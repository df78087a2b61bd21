"""The job request exactly as Make.com sends it (Runpod's `{"input": {...}}` envelope), validated field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ugc_swap.core.engines import ENGINE_NAMES
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN, parse_segment_plan

# Current name first, then the older names the earlier Make.com scenarios still send.
_FIELD_ALIASES = {
    "source_video_url": ("source_video_url", "video_url"),
    "avatar_image_url": ("avatar_image_url", "avatar_url"),
}
_INPUT_SCHEMES = ("http", "https", "s3")
_WEBHOOK_SCHEMES = ("http", "https")


class InvalidRequestError(UgcSwapError):
    code = "invalid_request"


@dataclass(frozen=True)
class JobRequest:
    record_id: str
    source_video_url: str
    avatar_image_url: str
    webhook_url: str | None
    segments: str
    engine: str
    force: bool = False  # run again even if this record already has a finished video


def parse_job_request(event: Any) -> JobRequest:
    """Validate a request; one error lists every missing or malformed field. Unknown fields are ignored."""
    if not isinstance(event, dict):
        raise InvalidRequestError(f"request must be a JSON object, got {type(event).__name__}")
    body = request_body(event)
    if body is None:
        raise InvalidRequestError("'input' must be a JSON object")
    problems: list[str] = []
    record_id = _string(body, "record_id", problems)
    video = _url(body, "source_video_url", _INPUT_SCHEMES, problems)
    avatar = _url(body, "avatar_image_url", _INPUT_SCHEMES, problems)
    # A bad webhook URL must not cost the customer their video: the job runs and the result says why no
    # webhook was sent (see webhook_problem).
    webhook = _url(body, "webhook_url", _WEBHOOK_SCHEMES, [], required=False)
    segments = body.get("segments", DEFAULT_SEGMENT_PLAN)
    if isinstance(segments, list):  # Make.com may send the JSON plan as an array rather than a string
        segments = json.dumps(segments)
    if not isinstance(segments, str):
        problems.append(f"'segments' must be a plan string or a list, got {type(segments).__name__}")
    else:
        try:
            parse_segment_plan(segments)
        except UgcSwapError as error:
            problems.append(f"'segments': {error.message}")
    engine = body.get("engine", "fast")
    if engine not in ENGINE_NAMES:
        problems.append(f"'engine' must be one of {', '.join(ENGINE_NAMES)}, got {engine!r}")
    force = body.get("force", False)
    if not isinstance(force, bool):
        problems.append(f"'force' must be true or false, got {type(force).__name__}")
    if problems:
        raise InvalidRequestError("; ".join(problems))
    return JobRequest(record_id, video, avatar, webhook, segments, engine, force)  # type: ignore[arg-type]


def request_body(event: Any) -> dict | None:
    """The request's fields, inside Runpod's `{"input": {...}}` envelope or bare; None when not an object."""
    body = event.get("input", event) if isinstance(event, dict) else None
    return body if isinstance(body, dict) else None


def reply_to(event: Any) -> tuple[str | None, str | None]:
    """record_id and a usable webhook_url from a request that may be invalid, so even a bad one is answered."""
    body = request_body(event) or {}
    record_id = body.get("record_id")
    record_id = (record_id.strip() or None) if isinstance(record_id, str) else None
    return record_id, _url(body, "webhook_url", _WEBHOOK_SCHEMES, [], required=False)


def webhook_problem(event: Any) -> str | None:
    """Why the request's webhook_url cannot be used, or None when it is absent or fine."""
    body = request_body(event)
    if body is None or body.get("webhook_url") in (None, ""):
        return None
    problems: list[str] = []
    _url(body, "webhook_url", _WEBHOOK_SCHEMES, problems, required=False)
    return problems[0] if problems else None


def _string(body: dict, name: str, problems: list[str]) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        problems.append(f"missing '{name}'")
        return None
    if not isinstance(value, str):
        problems.append(f"'{name}' must be a string, got {type(value).__name__}")
        return None
    return value.strip()


def _url(body: dict, name: str, schemes: tuple[str, ...], problems: list[str], required: bool = True) -> str | None:
    names = _FIELD_ALIASES.get(name, (name,))
    present = next((n for n in names if body.get(n) not in (None, "")), None)
    if present is None:
        if required:
            problems.append(f"missing '{name}'" + (f" (or '{names[1]}')" if len(names) > 1 else ""))
        return None
    value = body[present]
    if not isinstance(value, str):
        problems.append(f"'{present}' must be a URL string, got {type(value).__name__}")
        return None
    parsed = urlparse(value.strip())
    if parsed.scheme not in schemes or not parsed.netloc:
        problems.append(f"'{present}' must be a {'/'.join(schemes)} URL, got scheme {parsed.scheme or 'none'!r}")
        return None
    return value.strip()
