"""A real HTTP stand-in for Airtable's records API on loopback, so tests drive the genuine pyairtable client.

Covers what the driver uses: list (filterByFormula of `{Field}='value'` terms under OR/AND, fields[], pageSize,
maxRecords, real offset pagination), get, PATCH of one record or a batch, Bearer auth, known column names,
single-select options that only `typecast` may extend, and Airtable's `{"error": {"type", "message"}}` bodies.
`fail_next` scripts transient failures so retries can be counted in `requests`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_FIELDS = ("Status", "Source_Video_URL", "Avatar_Image_URL", "Output_Video_URL", "Error_Message",
                  "Webhook_URL", "Segments", "Engine")
_MAX_BATCH = 10


class ApiError(Exception):
    """An answer in Airtable's error shape."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


@dataclass
class LoggedRequest:
    method: str
    path: str  # decoded, without the query
    query: dict[str, list[str]]
    body: Any  # the parsed JSON body, or None
    status: int = 0  # what the stand-in answered


@dataclass
class AirtableStandIn:
    api_key: str = "patStandIn.0123456789abcdef"
    base_id: str = "appStandIn0000001"
    table: str = "Jobs"
    known_fields: tuple[str, ...] = DEFAULT_FIELDS
    # Single-select columns and their options; a value outside them needs typecast=True, which adds it.
    select_options: dict[str, set[str]] = field(default_factory=lambda: {"Status": {"Pending", "Retry"}})
    max_page_size: int = 100  # Airtable's own cap; lower it to force pagination
    requests: list[LoggedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._records: dict[str, dict[str, Any]] = {}
        self._iterators: dict[str, tuple[list[str], int]] = {}
        self._failures: deque[int] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- what tests call -------------------------------------------------------------------------------------

    def seed(self, fields: dict[str, Any]) -> str:
        """Add a row as the customer would; returns its record id."""
        with self._lock:
            record_id = f"rec{next(self._ids):014d}"
            created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self._records[record_id] = {"id": record_id, "createdTime": created,
                                        "fields": {k: v for k, v in fields.items() if v not in (None, "")}}
            return record_id

    def seed_fields(self, record_id: str, fields: dict[str, Any]) -> None:
        """Change a row behind the API's back, as a person editing the base would."""
        with self._lock:
            self._records[record_id]["fields"].update(fields)

    def fields_of(self, record_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._records[record_id]["fields"])

    def fail_next(self, status: int, count: int = 1) -> None:
        """The next `count` requests (of any kind) are answered `status` before anything else is looked at."""
        with self._lock:
            self._failures.extend([status] * count)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AirtableStandIn:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # A short poll interval: shutdown() waits up to one, and every test opens its own stand-in.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- the API -----------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any) -> tuple[int, Any]:
        entry = LoggedRequest(method, path, query, body)
        with self._lock:
            self.requests.append(entry)
            try:
                entry.status, payload = 200, self._route(method, path, query, headers, body)
            except ApiError as error:
                entry.status, payload = error.status, {"error": {"type": error.kind, "message": error.message}}
        return entry.status, payload

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any) -> Any:
        if self._failures:
            status = self._failures.popleft()
            kind = "RATE_LIMIT_REACHED" if status == 429 else "SERVER_ERROR"
            raise ApiError(status, kind, f"scripted failure {status}")
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            raise ApiError(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) not in (3, 4) or parts[0] != "v0":
            raise ApiError(404, "NOT_FOUND", "Could not find what you are looking for")
        if parts[1] != self.base_id:
            raise ApiError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                           "Invalid permissions, or the requested model was not found.")
        if parts[2] != self.table:
            raise ApiError(404, "TABLE_NOT_FOUND", f"Could not find table {parts[2]} in application {parts[1]}")
        record_id = parts[3] if len(parts) == 4 else None
        if method == "GET" and record_id:
            return self._record(record_id)
        if method == "GET":
            return self._list(query)
        if method == "PATCH" and record_id:
            return self._patch([{"id": record_id, "fields": (body or {}).get("fields", {})}], body or {})[0]
        if method == "PATCH":
            return {"records": self._patch((body or {}).get("records", []), body or {})}
        raise ApiError(404, "NOT_FOUND", f"{method} {path} is not part of this stand-in")

    def _record(self, record_id: str) -> dict[str, Any]:
        if record_id not in self._records:
            raise ApiError(404, "MODEL_ID_NOT_FOUND", f"Could not find a record with ID {record_id!r}")
        record = self._records[record_id]
        return {**record, "fields": dict(record["fields"])}

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        offset = query.get("offset", [None])[0]
        if offset is not None:
            if offset not in self._iterators:
                raise ApiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "Iterator not available")
            ids, start = self._iterators.pop(offset)
        else:
            formula = query.get("filterByFormula", [""])[0]
            test = parse_formula(formula, self.known_fields) if formula else (lambda fields: True)
            ids = [rid for rid, record in self._records.items() if test(record["fields"])]
            max_records = int(query.get("maxRecords", [len(ids)])[0])
            ids, start = ids[:max_records], 0
        size = min(int(query.get("pageSize", [100])[0]), self.max_page_size)
        wanted = query.get("fields[]")
        self._check_known(wanted or [])
        page = [self._record(rid) for rid in ids[start:start + size]]
        if wanted:
            page = [{**r, "fields": {k: v for k, v in r["fields"].items() if k in wanted}} for r in page]
        answer: dict[str, Any] = {"records": page}
        if start + size < len(ids):
            token = f"itr{len(self._iterators) + len(self.requests)}/{ids[start + size]}"
            self._iterators[token] = (ids, start + size)
            answer["offset"] = token
        return answer

    def _patch(self, updates: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
        if len(updates) > _MAX_BATCH:
            raise ApiError(422, "INVALID_RECORDS", f"You can update at most {_MAX_BATCH} records at a time")
        for update in updates:  # check all first: Airtable applies a batch whole or not at all
            self._record(update.get("id", ""))
            self._check_known(update.get("fields", {}))
            self._check_options(update.get("fields", {}), bool(body.get("typecast")))
        for update in updates:
            stored = self._records[update["id"]]["fields"]
            for name, value in update["fields"].items():
                if value in (None, ""):
                    stored.pop(name, None)  # Airtable leaves empty cells out of `fields`
                else:
                    stored[name] = value
        return [self._record(update["id"]) for update in updates]

    def _check_known(self, names: Any) -> None:
        for name in names:
            if name not in self.known_fields:
                raise ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')

    def _check_options(self, fields: dict[str, Any], typecast: bool) -> None:
        for name, value in fields.items():
            options = self.select_options.get(name)
            if options is None or value in (None, "") or value in options:
                continue
            if not typecast:
                raise ApiError(422, "INVALID_MULTIPLE_CHOICE_OPTIONS",
                               f'Insufficient permissions to create new select option ""{value}""')
            options.add(value)


def _handler(standin: AirtableStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(url.query, keep_blank_values=True)
            status, payload = standin.answer(self.command, unquote(url.path), query, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's naming)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# --- filterByFormula: `{Field}='value'` comparisons under OR(...)/AND(...), nothing else ------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<call>[A-Za-z]+)\(
  | (?P<field>\{(?:\\.|[^}\\])*\})
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<op>[=,)])
)""", re.VERBOSE)
Predicate = Callable[[dict[str, Any]], bool]
Tokens = list[tuple[str, str]]


def parse_formula(formula: str, known_fields: tuple[str, ...]) -> Predicate:
    """Compile `formula` to a predicate on a record's fields; ApiError 422 for anything outside our shapes."""
    tokens: Tokens = []
    position = 0
    while position < len(formula.rstrip()):
        match = _TOKEN.match(formula, position)
        if not match:
            raise _invalid(formula, f"unexpected text at {position}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    predicate, rest = _expression(tokens, formula, known_fields)
    if rest:
        raise _invalid(formula, "trailing text")
    return predicate


def _expression(tokens: Tokens, formula: str, known: tuple[str, ...]) -> tuple[Predicate, Tokens]:
    if not tokens:
        raise _invalid(formula, "unexpected end")
    kind, text = tokens[0]
    if kind == "call":
        combine = {"OR": any, "AND": all}.get(text.upper())
        if combine is None:
            raise _invalid(formula, f"function {text} is not supported")
        terms: list[Predicate] = []
        rest = tokens[1:]
        while True:
            term, rest = _expression(rest, formula, known)
            terms.append(term)
            if rest[:1] == [("op", ",")]:
                rest = rest[1:]
            elif rest[:1] == [("op", ")")]:
                return (lambda fields: combine(t(fields) for t in terms)), rest[1:]
            else:
                raise _invalid(formula, "expected ',' or ')'")
    if kind == "field" and tokens[1:2] == [("op", "=")] and tokens[2:3] and tokens[2][0] == "string":
        name = re.sub(r"\\(})", r"\1", text[1:-1])  # pyairtable escapes '}' in names, nothing else
        if name not in known:
            raise _invalid(formula, f"Unknown field names: {name}")
        value = re.sub(r"\\(.)", r"\1", tokens[2][1][1:-1])
        return (lambda fields: str(fields.get(name, "")) == value), tokens[3:]
    raise _invalid(formula, "only {Field}='value' comparisons are supported")


def _invalid(formula: str, why: str) -> ApiError:
    return ApiError(422, "INVALID_FILTER_BY_FORMULA", f"The formula for filtering records is invalid: {why}")
