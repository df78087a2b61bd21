"""The customer's Airtable row, moved through Pending → Processing → Complete/Failed by the driver itself.

Make.com used to be the only writer of the row; when the driver writes it too, a job's outcome lands in the row
even if the Make.com scenario that should have copied it from the webhook is paused or broken. The driver can also
poll for rows to run (`rows_to_run` + `claim`) instead of waiting for Make.com to push them.

Talks to Airtable through pyairtable with our own retry strategy: pyairtable's default retries only 429, while
Airtable also answers 5xx during its incidents. The API key lives in `AirtableSettings` (never printed by its
repr) and in pyairtable's session header; it is never put in a log line or an exception message.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
from pyairtable import Api
from pyairtable.formulas import EQ, OR, Field, to_formula_str
from urllib3.util.retry import Retry

from ugc_swap.core.errors import UgcSwapError

from .contract import FIELDS

log = logging.getLogger(__name__)

STATUS_PENDING = "Pending"
STATUS_PROCESSING = "Processing"
STATUS_COMPLETE = "Complete"
STATUS_FAILED = "Failed"
STATUS_RETRY = "Retry"
RUNNABLE_STATUSES = (STATUS_PENDING, STATUS_RETRY)

DEFAULT_ENDPOINT_URL = "https://api.airtable.com"
# Airtable's long-text cell holds 100,000 characters; a traceback-sized message stays far below that.
MAX_ERROR_MESSAGE_CHARS = 10_000
_MAX_PAGE_SIZE = 100  # Airtable refuses a larger pageSize with 422
_RETRY_STATUSES = (429, 500, 502, 503, 504)
_BASE_ID = re.compile(r"app[A-Za-z0-9]+")

ENV_API_KEY = "UGC_SWAP_AIRTABLE_API_KEY"
ENV_API_KEY_FALLBACK = "AIRTABLE_API_KEY"
ENV_BASE_ID = "UGC_SWAP_AIRTABLE_BASE_ID"
ENV_TABLE = "UGC_SWAP_AIRTABLE_TABLE"
ENV_ENDPOINT_URL = "UGC_SWAP_AIRTABLE_ENDPOINT_URL"
# + a column's name in capitals: an AirtableFields attribute (..._FIELD_STATUS) or a request field that `watch`
# reads (..._FIELD_SOURCE_VIDEO_URL).
ENV_FIELD_PREFIX = "UGC_SWAP_AIRTABLE_FIELD_"


def _request_columns() -> dict[str, str]:
    """Request field -> the column `watch` reads it from, as the contract table declares them."""
    return {f.name: f.airtable_column for f in FIELDS if f.airtable_column}


class AirtableError(UgcSwapError):
    code = "airtable_failed"


@dataclass(frozen=True)
class AirtableFields:
    """Column names in the customer's table; each can be renamed with UGC_SWAP_AIRTABLE_FIELD_<NAME>."""

    status: str = "Status"
    output_video_url: str = "Output_Video_URL"
    error_message: str = "Error_Message"
    # The request's fields that `watch` reads from the row, by contract name (contract.py declares the columns).
    request: Mapping[str, str] = dataclasses.field(default_factory=_request_columns)


@dataclass(frozen=True)
class AirtableSettings:
    api_key: str = dataclasses.field(repr=False)
    base_id: str
    table: str
    endpoint_url: str | None = None  # None: the real https://api.airtable.com
    fields: AirtableFields = AirtableFields()
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    attempts: int = 5
    backoff_s: float = 1.0

    @property
    def endpoint(self) -> str:
        return self.endpoint_url or DEFAULT_ENDPOINT_URL


@dataclass(frozen=True)
class AirtableJob:
    """A runnable row, as read: its non-empty request cells by contract name, left for `parse_job_request` to
    judge."""

    record_id: str
    cells: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_request(self) -> dict[str, str]:
        """The same shape Make.com sends as `input`, so both paths go through one validation."""
        return {"record_id": self.record_id, **self.cells}


def airtable_settings_from_env(environ: Mapping[str, str], problems: list[str]) -> AirtableSettings | None:
    """Settings from `environ`, or None when Airtable is not configured; what is wrong is appended to `problems`.

    Airtable is optional: with none of our three main variables set the driver simply does not write rows. A bare
    AIRTABLE_API_KEY does not switch it on, since that name is often set for other tools.
    """
    own_key = _env(environ, ENV_API_KEY)
    base_id = _env(environ, ENV_BASE_ID)
    table = _env(environ, ENV_TABLE)
    if own_key is None and base_id is None and table is None:
        return None
    api_key = own_key or _env(environ, ENV_API_KEY_FALLBACK)
    before = len(problems)
    if api_key is None:
        problems.append(f"{ENV_API_KEY} (or {ENV_API_KEY_FALLBACK}) is missing: the Airtable personal access token,"
                        " needed because other UGC_SWAP_AIRTABLE_* variables are set")
    if base_id is None:
        problems.append(f"{ENV_BASE_ID} is missing: the Airtable base id (appXXXXXXXXXXXXXX, from the base's URL),"
                        " needed because other UGC_SWAP_AIRTABLE_* variables are set")
    elif not _BASE_ID.fullmatch(base_id):
        problems.append(f"{ENV_BASE_ID} must be a base id starting with 'app' (from the base's URL), got {base_id!r}")
    if table is None:
        problems.append(f"{ENV_TABLE} is missing: the table name or id (tbl...) holding the jobs,"
                        " needed because other UGC_SWAP_AIRTABLE_* variables are set")
    endpoint_url = _env(environ, ENV_ENDPOINT_URL)
    if endpoint_url is not None:
        parsed = urlparse(endpoint_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            problems.append(f"{ENV_ENDPOINT_URL} must be an http(s) URL, got {endpoint_url!r}")
    overrides = {
        attribute.name: value
        for attribute in dataclasses.fields(AirtableFields) if attribute.name != "request"
        if (value := _env(environ, ENV_FIELD_PREFIX + attribute.name.upper())) is not None
    }
    request = {name: _env(environ, ENV_FIELD_PREFIX + name.upper()) or column
               for name, column in _request_columns().items()}
    if len(problems) > before:
        return None
    return AirtableSettings(api_key=api_key, base_id=base_id, table=table,  # type: ignore[arg-type]
                            endpoint_url=endpoint_url, fields=AirtableFields(**overrides, request=request))


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def retry_strategy(settings: AirtableSettings) -> Retry:
    # PATCH is retried too: every update here writes absolute values, so sending it twice changes nothing.
    retries = settings.attempts - 1
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=settings.backoff_s,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods={"GET", "PATCH"},
        respect_retry_after_header=True,
        raise_on_status=False,  # the last 5xx reaches pyairtable, whose HTTPError keeps Airtable's error body
    )


T = TypeVar("T")


class AirtableRows:
    """Reads and writes job rows of one table; every failure becomes an AirtableError without the key."""

    def __init__(self, settings: AirtableSettings) -> None:
        self.settings = settings
        self._api = Api(
            settings.api_key,
            endpoint_url=settings.endpoint,
            timeout=(settings.connect_timeout_s, settings.timeout_s),
            retry_strategy=retry_strategy(settings),
        )
        self._table = self._api.table(settings.base_id, settings.table)

    def mark_processing(self, record_id: str) -> None:
        self._update(record_id, {self.settings.fields.status: STATUS_PROCESSING})

    def mark_complete(self, record_id: str, output_url: str, note: str | None = None) -> None:
        """Status Complete and the output URL; the message column holds `note` (what a person should look at in
        a video delivered for review), else a message left by an earlier failed try is cleared."""
        f = self.settings.fields
        message = note[:MAX_ERROR_MESSAGE_CHARS] if note else None
        self._update(record_id, {f.status: STATUS_COMPLETE, f.output_video_url: output_url, f.error_message: message})

    def mark_failed(self, record_id: str, message: str) -> None:
        f = self.settings.fields
        self._update(record_id, {f.status: STATUS_FAILED, f.error_message: message[:MAX_ERROR_MESSAGE_CHARS]})

    def runnable_formula(self) -> str:
        """`OR({Status}='Pending', {Status}='Retry')`, quoted and escaped by pyairtable.formulas."""
        status = Field(self.settings.fields.status)
        return to_formula_str(OR(*(EQ(status, value) for value in RUNNABLE_STATUSES)))

    def rows_to_run(self, limit: int) -> list[AirtableJob]:
        """Up to `limit` rows whose Status is Pending or Retry, following Airtable's pages, in Airtable's order."""
        if limit < 1:
            return []
        # Every cell of the row comes back (no `fields` filter): Airtable refuses a request naming a column the
        # table lacks, and most request columns (Segments, Target, ...) are optional for the customer's table.
        records = self._call(
            "list runnable rows",
            lambda: self._table.all(formula=self.runnable_formula(), max_records=limit,
                                    page_size=min(limit, _MAX_PAGE_SIZE)),
        )
        return [self._job(record) for record in records[:limit]]

    def claim(self, record_id: str) -> bool:
        """Set Processing if the row is still Pending/Retry; False when someone else got there first.

        Best effort only: Airtable has no compare-and-set (no ETag, no conditional PATCH), so two drivers that read
        the row in the same instant can both claim it. Run one poller per table to be safe.
        """
        record = self._call(f"read row {record_id}", lambda: self._table.get(record_id))
        current = record.get("fields", {}).get(self.settings.fields.status)
        if current not in RUNNABLE_STATUSES:
            log.info("airtable row %s not claimed: status is %r", record_id, current)
            return False
        self.mark_processing(record_id)
        return True

    def _job(self, record: Mapping[str, Any]) -> AirtableJob:
        cells = record.get("fields", {})
        texts = {name: _cell_text(cells.get(column)) for name, column in self.settings.fields.request.items()}
        return AirtableJob(record["id"], {name: text for name, text in texts.items() if text is not None})

    def _update(self, record_id: str, fields: dict[str, Any]) -> None:
        # typecast: a Status single-select option that does not exist yet is created instead of refused.
        self._call(f"update row {record_id} ({', '.join(fields)})",
                   lambda: self._table.update(record_id, fields, typecast=True))
        log.info("airtable row %s: %s", record_id, fields.get(self.settings.fields.status))

    def _call(self, action: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except requests.HTTPError as exc:
            raise AirtableError(self._scrub(self._http_message(action, exc.response))) from None
        except requests.RequestException as exc:
            host = urlparse(self.settings.endpoint).netloc
            raise AirtableError(
                f"could not reach Airtable at {host} to {action} in table {self.settings.table!r}"
                f" after {self.settings.attempts} attempts: {type(exc).__name__}"
            ) from None

    def _http_message(self, action: str, response: requests.Response | None) -> str:
        status = response.status_code if response is not None else 0
        kind, detail = _airtable_error(response)
        where = f"table {self.settings.table!r} in base {self.settings.base_id}"
        message = f"Airtable refused to {action} in {where}: HTTP {status} {kind}: {detail}"
        hint = _HINTS.get(status)
        return f"{message} ({hint})" if hint else message

    def _scrub(self, text: str) -> str:
        # Airtable's messages do not echo the token, but a proxy's error page might: never let it through.
        return text.replace(self.settings.api_key, "<api key>") if self.settings.api_key else text


_HINTS = {
    401: f"the API key was refused: check {ENV_API_KEY}",
    403: "the token lacks data.records:read/write on this base, or the base id is wrong",
    404: "the table or record does not exist: check the table name and record id",
    422: f"a column name or value does not match the table: check the {ENV_FIELD_PREFIX}* overrides",
}


def _airtable_error(response: requests.Response | None) -> tuple[str, str]:
    """Airtable's `{"error": {"type", "message"}}` (or `{"error": "TYPE"}`), else the HTTP reason."""
    if response is None:
        return "UNKNOWN", "no response"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        return str(error.get("type", "UNKNOWN")), str(error.get("message", ""))[:500]
    if isinstance(error, str):
        return error, response.reason or ""
    return "UNKNOWN", response.reason or ""


def _cell_text(value: Any) -> str | None:
    """A cell as text: attachment cells give their first file's URL, lookup cells their first value."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url")
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None
