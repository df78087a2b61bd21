"""Pods mode: an always-warm HTTP server that answers like Runpod serverless (`/run`, `/runsync`, `/status/{id}`).

A Make.com scenario then moves between Runpod serverless and a Pod by changing only its base URL: the request body
(`{"input": {...}}`), the job ids, the status values and the result shape are Runpod's. The work itself is a
`JobHandler` supplied by the caller; this module is the HTTP layer and the draining shutdown, in front of the job
queue of `pods_queue.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .pods_queue import (
    DEFAULT_MAX_QUEUED,
    DEFAULT_RETENTION_S,
    FINISHED,
    IN_QUEUE,
    JobHandler,
    JobQueue,
    JobSnapshot,
    QueueClosedError,
    QueueFullError,
)

log = logging.getLogger(__name__)

DEFAULT_RUNSYNC_WAIT_MS = 90_000  # Runpod's own /runsync defaults and caps
MAX_RUNSYNC_WAIT_MS = 600_000
_WAIT_POLL_S = 0.05

def _bearer_check(api_key: str | None) -> Callable[..., Awaitable[None]]:
    # Both sides hashed first: equal-length digests compared in constant time leak neither the key nor its length.
    expected = hashlib.sha256(api_key.encode()).digest() if api_key is not None else None

    async def check(authorization: str | None = Header(default=None)) -> None:
        if expected is None:
            return
        scheme, _, token = (authorization or "").partition(" ")
        given = hashlib.sha256(token.strip().encode()).digest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                                headers={"WWW-Authenticate": "Bearer"})

    return check


async def _job_input(request: Request) -> dict[str, Any]:
    """The `input` object of a Runpod-style body; other top-level fields (webhook, policy, ...) are ignored."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, 'the request body is not JSON: expected {"input": {...}}') from None
    if not isinstance(body, dict):
        raise HTTPException(400, f'the request body must be a JSON object {{"input": {{...}}}}, not {_json_type(body)}')
    if "input" not in body:
        raise HTTPException(400, "the request body has no 'input' field")
    if not isinstance(body["input"], dict):
        raise HTTPException(400, f"'input' must be a JSON object, not {_json_type(body['input'])}")
    return body["input"]


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "null")  # json.loads makes nothing else, and objects never get here


def _wait_ms(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_RUNSYNC_WAIT_MS
    try:
        wait = int(raw)
    except ValueError:
        raise HTTPException(400, "'wait' must be a whole number of milliseconds") from None
    if wait < 0:
        raise HTTPException(400, "'wait' must not be negative")
    return min(wait, MAX_RUNSYNC_WAIT_MS)


async def _wait_finished(queue: JobQueue, job_id: str, timeout_s: float) -> JobSnapshot | None:
    # Polled on the event loop instead of blocking a thread in queue.wait(): a hundred waiting /runsync calls
    # would otherwise hold every thread of the pool that FastAPI's threaded work shares.
    deadline = time.monotonic() + timeout_s
    while True:
        snapshot = queue.get(job_id)
        remaining = deadline - time.monotonic()
        if snapshot is None or snapshot.status in FINISHED or remaining <= 0:
            return snapshot
        await asyncio.sleep(min(_WAIT_POLL_S, remaining))


def _submit(queue: JobQueue, job_input: dict[str, Any]) -> str:
    try:
        return queue.submit(job_input)
    except QueueFullError as exc:
        raise HTTPException(429, str(exc)) from None
    except QueueClosedError as exc:
        raise HTTPException(503, str(exc)) from None


def create_app(handler: JobHandler, api_key: str | None, *, max_queued: int = DEFAULT_MAX_QUEUED,
               retention_s: float = DEFAULT_RETENTION_S) -> FastAPI:
    """The Runpod-shaped API over a fresh `JobQueue` (as `app.state.queue`); its worker runs while the app does."""
    if api_key is not None and not api_key.strip():
        # An unset variable read as "" must not quietly turn authentication off.
        raise ValueError("api_key is empty: pass None to serve without authentication")
    queue = JobQueue(handler, max_queued, retention_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        queue.start()
        yield
        queue.close()  # waiting for the running job is serve()'s part; see _DrainingServer

    app = FastAPI(title="ugc-swap Pods", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue

    # Every refusal, routing's 404 and 405 included, as Runpod's {"error": ...} rather than FastAPI's {"detail": ...}.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    def known(snapshot: JobSnapshot | None, job_id: str) -> dict[str, Any]:
        if snapshot is None:
            raise HTTPException(404, f"no job {job_id[:100]!r}: unknown, or finished over {retention_s:g} s ago")
        return snapshot.to_runpod()

    jobs = APIRouter(dependencies=[Depends(_bearer_check(api_key))])

    @jobs.post("/run")
    async def run(request: Request) -> dict[str, Any]:
        return {"id": _submit(queue, await _job_input(request)), "status": IN_QUEUE}

    @jobs.post("/runsync")
    async def runsync(request: Request, wait: str | None = None) -> dict[str, Any]:
        timeout_s = _wait_ms(wait) / 1000  # checked first: a bad ?wait= must not leave a job behind
        job_id = _submit(queue, await _job_input(request))
        return known(await _wait_finished(queue, job_id, timeout_s), job_id)

    @jobs.api_route("/status/{job_id}", methods=["GET", "POST"])
    async def status(job_id: str) -> dict[str, Any]:
        return known(queue.get(job_id), job_id)

    @jobs.post("/cancel/{job_id}")
    async def cancel(job_id: str) -> dict[str, Any]:
        return known(queue.cancel(job_id), job_id)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return queue.stats().to_runpod_health()

    app.include_router(jobs)
    return app


class _DrainingServer(uvicorn.Server):
    """On the first SIGTERM/SIGINT: take no new jobs, keep answering /status and waiting /runsync calls while the
    running job finishes, then stop. A second signal stops at once, as plain uvicorn would."""

    def __init__(self, config: uvicorn.Config, queue: JobQueue) -> None:
        super().__init__(config)
        self._queue = queue
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            super().handle_exit(sig, frame)
            return
        self._draining = True
        log.info("signal %d: taking no new jobs; stopping once the running job has finished", sig)
        self._queue.close()
        # A thread, since this runs inside the signal handler, on the event loop's thread.
        threading.Thread(target=self._exit_when_idle, name="pods-drain", daemon=True).start()

    def _exit_when_idle(self) -> None:
        self._queue.join()
        # Not super().handle_exit(): that would have uvicorn raise the signal again once stopped, killing the
        # process before the caller of serve() could clean up (stop ComfyUI). A drained stop simply returns.
        self.should_exit = True


def serve(handler: JobHandler, host: str, port: int, api_key: str | None, *, max_queued: int = DEFAULT_MAX_QUEUED,
          retention_s: float = DEFAULT_RETENTION_S, log_level: str = "info", fd: int | None = None) -> None:
    """Serve the API under uvicorn until SIGTERM/SIGINT, then return once the running job has finished (see
    `_DrainingServer`). A second signal stops it at once and, as uvicorn does, ends the process by that signal."""
    if api_key is None:
        log.warning("no API key set: anyone who can reach %s:%d can submit jobs", host, port)
    app = create_app(handler, api_key, max_queued=max_queued, retention_s=retention_s)
    # One process, never uvicorn's `workers`: the queue and the job records live in this process's memory, so a
    # second process would keep its own queue, run a second job on the same GPU, and 404 the other's job ids.
    # The graceful-shutdown timeout only bounds idle or stuck connections: the job itself was waited for before.
    # `fd`: a socket its parent bound and handed over (no window in which another process can take the port).
    config = uvicorn.Config(app, host=host, port=port, fd=fd, workers=1, log_level=log_level,
                            timeout_graceful_shutdown=10)
    _DrainingServer(config, app.state.queue).run()
