"""The Make.com contract, one row per request field: the only place a field is declared.

Request parsing (`job_request.py`), the graph values a job fills in (`swap_job.py`), the Airtable columns `watch`
reads (`airtable_rows.py`), the CLI's flags (`cli.py`) and the README's contract table (`tools/contract_doc.py`,
checked by a test) all come from `FIELDS`. A new field is a row here plus, when it reaches the graph, the node
input it fills.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ugc_swap.core.engines import DEFAULT_ENGINE, engine_names
from ugc_swap.core.engines.base import TARGET_MODES
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.segment_plan import DEFAULT_SEGMENT_PLAN, parse_segment_plan
from ugc_swap.core.video.label import LABEL_MODES

from .workflow import FACE_REPLACE, SEGMENT_PLAN

INPUT_SCHEMES = ("http", "https", "s3")
WEBHOOK_SCHEMES = ("http", "https")


class FieldProblem(ValueError):
    """What is wrong with one field's value, said in terms of the value (the field's name is added around it)."""


@dataclass(frozen=True)
class ContractField:
    name: str
    doc: str  # the README's line for it
    parse: Callable[[Any], Any]  # the value as given -> the value the job uses; raises FieldProblem
    required: bool = False
    default: Any = None  # used when the field is absent or empty
    aliases: tuple[str, ...] = ()  # older names still accepted, checked after `name`
    graph_input: tuple[str, str] | None = None  # (node title, input name) the value fills in the saved graph
    # False: a graph without that input ignores the value (the engine input exists only where one node offers
    # several engines; a graph engine's workflow is itself the choice).
    graph_input_required: bool = True
    airtable_column: str | None = None  # the column `watch` reads it from (UGC_SWAP_AIRTABLE_FIELD_<NAME> renames)
    cli_flag: str | None = None  # `ugc-swap run` option
    blocks_job: bool = True  # False: a bad value is reported beside the result instead of failing the job

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem(f"must be a string, got {type(value).__name__}")
    return value.strip()


def _url(schemes: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise FieldProblem(f"must be a URL string, got {type(value).__name__}")
        parsed = urlparse(value.strip())
        if parsed.scheme not in schemes or not parsed.netloc:
            raise FieldProblem(f"must be a {'/'.join(schemes)} URL, got scheme {parsed.scheme or 'none'!r}")
        return value.strip()

    return parse


def _segments(value: Any) -> str:
    if isinstance(value, list):  # Make.com may send the JSON plan as an array rather than a string
        value = json.dumps(value)
    if not isinstance(value, str):
        raise FieldProblem(f"must be a plan string or a list, got {type(value).__name__}")
    try:
        parse_segment_plan(value)
    except UgcSwapError as error:
        raise FieldProblem(f"is not a valid plan: {error.message}") from None
    return value


def _engine(value: Any) -> str:
    if value not in engine_names():
        raise FieldProblem(f"must be one of {', '.join(engine_names())}, got {value!r}")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise FieldProblem(f"must be one of {', '.join(options)}, got {value!r}")
        return value

    return parse


_target = _choice(TARGET_MODES)


def _seconds(value: Any) -> float:
    if isinstance(value, str):  # Airtable number cells and Make.com mappings may arrive as text
        try:
            value = float(value.strip())
        except ValueError:
            raise FieldProblem(f"must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FieldProblem(f"must be a number of seconds from 0, got {value!r}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldProblem(f"must be true or false, got {type(value).__name__}")
    return value


FIELDS: tuple[ContractField, ...] = (
    ContractField("record_id", "the Airtable record id; names the result in S3 and the row the worker moves",
                  _text, required=True),
    ContractField("source_video_url", "the product-demo video: http(s) or `s3://bucket/key`",
                  _url(INPUT_SCHEMES), required=True, aliases=("video_url",), airtable_column="Source_Video_URL",
                  cli_flag="--video"),
    ContractField("avatar_image_url", "the customer's face photo: http(s) or `s3://bucket/key`",
                  _url(INPUT_SCHEMES), required=True, aliases=("avatar_url",), airtable_column="Avatar_Image_URL",
                  cli_flag="--avatar"),
    ContractField("webhook_url", "where the result is POSTed (a bad URL does not stop the job; the result says why "
                  "none was sent)", _url(WEBHOOK_SCHEMES), airtable_column="Webhook_URL", blocks_job=False),
    ContractField("segments", "the segment plan (see Segment plans), a string or a JSON list",
                  _segments, default=DEFAULT_SEGMENT_PLAN, graph_input=(SEGMENT_PLAN, "plan"),
                  airtable_column="Segments", cli_flag="--segments"),
    ContractField("engine", "which engine swaps (see Engines)", _engine, default=DEFAULT_ENGINE,
                  graph_input=(FACE_REPLACE, "engine"), graph_input_required=False, airtable_column="Engine",
                  cli_flag="--engine"),
    ContractField("target", "who gets the customer's face: `main` (the most prominent face of each shot), "
                  "`reference` (only the person in `target_face_url` or at `target_face_at_s`, in every shot; other "
                  "people stay as filmed; the default when either is given) or `all`", _target, default="main",
                  graph_input=(FACE_REPLACE, "target"), airtable_column="Target", cli_flag="--target"),
    ContractField("target_face_url", "a photo of the person to replace (`target: reference`): http(s) or "
                  "`s3://bucket/key`", _url(INPUT_SCHEMES), airtable_column="Target_Face_URL",
                  cli_flag="--target-face"),
    ContractField("target_face_at_s", "a time (s) in the source where the person to replace is clearly visible "
                  "(`target: reference`)", _seconds, graph_input=(FACE_REPLACE, "target_face_at_s"),
                  airtable_column="Target_Face_At_S", cli_flag="--target-face-at"),
    ContractField("label", "a visible 'AI-generated' label: `none`, `swapped` (on the swapped frames) or `whole` "
                  "(every frame); default `UGC_SWAP_LABEL`, its text, corner and size from the environment too",
                  _choice(LABEL_MODES), graph_input=(FACE_REPLACE, "label"), airtable_column="Label",
                  cli_flag="--label"),
    ContractField("consent", "the customer's consent to this use of their face: a reference and a timestamp, or "
                  "a URL to the signed consent; goes into the result's C2PA manifest (required with "
                  "`UGC_SWAP_REQUIRE_CONSENT=1`)", _text, airtable_column="Consent", cli_flag="--consent"),
    ContractField("force", "`true` makes the video again although the record already has one", _flag,
                  default=False),
)
FIELDS_BY_NAME: dict[str, ContractField] = {f.name: f for f in FIELDS}


def present_name(body: Mapping[str, Any], field: ContractField) -> str | None:
    """Which of the field's names the body uses (the current name first), or None when it is absent or empty."""
    return next((n for n in field.names if body.get(n) not in (None, "")), None)


def read_field(body: Mapping[str, Any], field: ContractField) -> Any:
    """The field's value from `body` (its default when absent); FieldProblem, naming the field, when invalid."""
    given = present_name(body, field)
    if given is None:
        if field.required:
            also = f" (or {', '.join(repr(a) for a in field.aliases)})" if field.aliases else ""
            raise FieldProblem(f"missing '{field.name}'{also}")
        return field.default
    try:
        return field.parse(body[given])
    except FieldProblem as problem:
        raise FieldProblem(f"'{given}' {problem}") from None


def check_target(values: dict[str, Any], target_given: bool) -> list[str]:
    """The rule across the three target fields (problems, as request errors say them). A reference alone makes
    the target `reference`; `reference` needs exactly one of a photo and a time."""
    photo, at_s = values.get("target_face_url"), values.get("target_face_at_s")
    has_reference = photo is not None or at_s is not None
    if has_reference and not target_given:
        values["target"] = "reference"
    if values.get("target") != "reference":
        return ["'target_face_url' and 'target_face_at_s' name the person to replace and go with 'target' "
                f"'reference', got 'target' {values.get('target')!r}"] if has_reference else []
    if not has_reference:
        return ["'target' 'reference' needs the person to replace: 'target_face_url' (a photo of them) or "
                "'target_face_at_s' (a time in the source where they are clearly visible)"]
    if photo is not None and at_s is not None:
        return ["give 'target_face_url' or 'target_face_at_s', not both"]
    return []


def graph_fields() -> tuple[ContractField, ...]:
    return tuple(f for f in FIELDS if f.graph_input is not None)


def readme_table() -> str:
    """The README's contract table, made from FIELDS."""
    rows = ["| field | required | default | also accepted | graph input | Airtable column (`watch`) | CLI | meaning |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for f in FIELDS:
        default = "" if f.default is None else f"`{json.dumps(f.default)}`"
        rows.append("| " + " | ".join([
            f"`{f.name}`", "yes" if f.required else "no", default, ", ".join(f"`{a}`" for a in f.aliases),
            f"{f.graph_input[0]} → `{f.graph_input[1]}`" if f.graph_input else "",
            f"`{f.airtable_column}`" if f.airtable_column else "", f"`{f.cli_flag}`" if f.cli_flag else "", f.doc,
        ]) + " |")
    return "\n".join(rows)
