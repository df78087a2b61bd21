"""The job request exactly as Make.com sends it (Runpod's `{"input": {...}}` envelope), validated field by field
against the contract table (`contract.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ugc_swap.core.errors import UgcSwapError

from .contract import FIELDS, FIELDS_BY_NAME, FieldProblem, check_target, graph_fields, present_name, read_field


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
    target_face_url: str | None = None  # a photo of the person to replace (target `reference`)
    consent: str | None = None  # the customer's consent reference (into the C2PA manifest)
    # Every other contract field that fills the graph, by contract name (see contract.graph_fields).
    options: Mapping[str, Any] = field(default_factory=dict)


def parse_job_request(event: Any) -> JobRequest:
    """Validate a request; one error lists every missing or malformed field. Unknown fields are ignored."""
    if not isinstance(event, dict):
        raise InvalidRequestError(f"request must be a JSON object, got {type(event).__name__}")
    body = request_body(event)
    if body is None:
        raise InvalidRequestError("'input' must be a JSON object")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for contract_field in FIELDS:
        try:
            values[contract_field.name] = read_field(body, contract_field)
        except FieldProblem as problem:
            if contract_field.blocks_job:
                problems.append(str(problem))
            values[contract_field.name] = None
    if not problems:
        problems += check_target(values, present_name(body, FIELDS_BY_NAME["target"]) is not None)
    if problems:
        raise InvalidRequestError("; ".join(problems))
    own = {"record_id", "source_video_url", "avatar_image_url", "webhook_url", "segments", "engine", "force",
           "target_face_url", "consent"}
    options = {f.name: values[f.name] for f in graph_fields() if f.name not in own and values[f.name] is not None}
    return JobRequest(**{name: values[name] for name in own}, options=options)


def request_body(event: Any) -> dict | None:
    """The request's fields, inside Runpod's `{"input": {...}}` envelope or bare; None when not an object."""
    body = event.get("input", event) if isinstance(event, dict) else None
    return body if isinstance(body, dict) else None


def reply_to(event: Any) -> tuple[str | None, str | None]:
    """record_id and a usable webhook_url from a request that may be invalid, so even a bad one is answered."""
    body = request_body(event) or {}
    record_id = body.get("record_id")
    record_id = (record_id.strip() or None) if isinstance(record_id, str) else None
    try:
        webhook = read_field(body, FIELDS_BY_NAME["webhook_url"])
    except FieldProblem:
        webhook = None
    return record_id, webhook


def webhook_problem(event: Any) -> str | None:
    """Why the request's webhook_url cannot be used, or None when it is absent or fine."""
    body = request_body(event)
    if body is None:
        return None
    try:
        read_field(body, FIELDS_BY_NAME["webhook_url"])
    except FieldProblem as problem:
        return str(problem)
    return None
