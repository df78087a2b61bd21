"""Pods mode: an always-warm HTTP server that answers like Runpod serverless (`/run`, `/runsync`, `/status/{id}`).

A Make.com scenario then moves between Runpod serverless and a Pod by changing only its base URL: the request body
(`{"input": {...}}`), the job ids, the status values and the result shape are Runpod's. The work itself is a
`JobHandler` supplied by the caller; this module is the HTTP layer and the queue in front of it.

Jobs run one at a time: one GPU runs one swap at a time, and a second would only slow both and risk running out of
GPU memory. The queue lives in memory, so a restart forgets it, as a lost Runpod worker loses its job.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})

DEFAULT_MAX_QUEUED = 100
DEFAULT_RETENTION_S = 3600.0
DEFAULT_RUNSYNC_WAIT_MS = 90_000  # Runpod's own /runsync defaults and caps
MAX_RUNSYNC_WAIT_MS = 600_000
MAX_ERROR_CHARS = 1000
MAX_PROGRESS_CHARS = 500
_WAIT_POLL_S = 0.05

ProgressCallback = Callable[[str], None]
JobHandler = Callable[[dict[str, Any], ProgressCallback], dict[str, Any]]


class QueueFullError(RuntimeError):
    """`max_queued` jobs are already waiting (HTTP 429)."""


class QueueClosedError(RuntimeError):
    """The server is shutting down (HTTP 503)."""


@dataclass(frozen=True)
class JobSnapshot:
    """One job as it stood when asked; `to_runpod` is the body of /status."""

    id: str
    status: str
    output: Any = None
    error: str | None = None
    progress: str | None = None
    delay_ms: int | None = None
    execution_ms: int | None = None

    def to_runpod(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        optional = {"delayTime": self.delay_ms, "executionTime": self.execution_ms, "output": self.output,
                    "error": self.error, "progress": self.progress}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True)
class QueueStats:
    completed: int
    failed: int
    cancelled: int
    in_progress: int
    in_queue: int

    def to_runpod_health(self) -> dict[str, Any]:
        # "retried" is always 0: a job that failed on this GPU would fail again, so nothing is retried.
        jobs = {"completed": self.completed, "failed": self.failed, "inProgress": self.in_progress,
                "inQueue": self.in_queue, "retried": 0}
        return {"jobs": jobs, "workers": {"idle": 1 - self.in_progress, "running": self.in_progress}}


@dataclass(eq=False)  # identity, not field equality: deque.remove() must take this very job
class _Job:
    id: str
    input: dict[str, Any]
    submitted: float
    status: str = IN_QUEUE
    started: float | None = None
    finished: float | None = None
    output: Any = None
    error: str | None = None
    progress: str | None = None

    def snapshot(self) -> JobSnapshot:
        started, finished = self.started, self.finished
        delay = None if started is None else round((started - self.submitted) * 1000)
        execution = None if started is None or finished is None else round((finished - started) * 1000)
        # Progress is for pollers of a running job; a finished job's answer is its output.
        progress = self.progress if self.status == IN_PROGRESS else None
        return JobSnapshot(self.id, self.status, self.output, self.error, progress, delay, execution)


class JobQueue:
    """FIFO in front of one worker thread. Counters run from start; finished jobs are forgotten after retention."""

    def __init__(self, handler: JobHandler, max_queued: int = DEFAULT_MAX_QUEUED,
                 retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.max_queued = max_queued
        self.retention_s = retention_s
        self._handler = handler
        self._cond = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._pending: deque[_Job] = deque()
        self._running: _Job | None = None
        self._closed = False
        self._counts = {COMPLETED: 0, FAILED: 0, CANCELLED: 0}
        # Daemon: a second SIGTERM must be able to end the process while a job still runs.
        self._worker = threading.Thread(target=self._work, name="pods-job-worker", daemon=True)

    def start(self) -> None:
        self._worker.start()

    def submit(self, job_input: dict[str, Any]) -> str:
        with self._cond:
            if self._closed:
                raise QueueClosedError("the server is shutting down and takes no new jobs")
            if len(self._pending) >= self.max_queued:
                raise QueueFullError(f"the queue is full ({self.max_queued} jobs waiting); retry later")
            self._forget_expired()
            job = _Job(str(uuid.uuid4()), job_input, time.monotonic())
            self._jobs[job.id] = job
            self._pending.append(job)
            self._cond.notify_all()
            return job.id

    def get(self, job_id: str) -> JobSnapshot | None:
        with self._cond:
            self._forget_expired()
            job = self._jobs.get(job_id)
            return job.snapshot() if job else None

    def wait(self, job_id: str, timeout_s: float) -> JobSnapshot | None:
        """Block until the job has finished or `timeout_s` has passed; its state either way (None: unknown)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while (job := self._jobs.get(job_id)) is not None and job.status not in FINISHED:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return job.snapshot() if job else None

    def cancel(self, job_id: str) -> JobSnapshot | None:
        """Cancel a queued job; a running one cannot be stopped midway, so its state is answered unchanged."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.status == IN_QUEUE:
                self._pending.remove(job)
                self._finish(job, CANCELLED)
            return job.snapshot()

    def stats(self) -> QueueStats:
        with self._cond:
            self._forget_expired()
            return QueueStats(self._counts[COMPLETED], self._counts[FAILED], self._counts[CANCELLED],
                              int(self._running is not None), len(self._pending))

    def close(self) -> None:
        """Take no more jobs and cancel those still waiting; the running one carries on to its end."""
        with self._cond:
            self._closed = True
            while self._pending:
                self._finish(self._pending.popleft(), CANCELLED, error="the server shut down before the job started")
            self._cond.notify_all()

    def join(self, timeout_s: float | None = None) -> bool:
        """After `close`: wait for the running job to end. True when the worker has stopped."""
        if self._worker.is_alive():
            self._worker.join(timeout_s)
        return not self._worker.is_alive()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                job = self._running = self._pending.popleft()
                job.status, job.started = IN_PROGRESS, time.monotonic()
                self._cond.notify_all()
            status, output, error = self._run_handler(job)
            with self._cond:
                self._running = None
                self._finish(job, status, output, error)

    def _run_handler(self, job: _Job) -> tuple[str, Any, str | None]:
        def report(text: str) -> None:
            job.progress = str(text)[:MAX_PROGRESS_CHARS]  # one attribute store: safe without the lock

        log.info("job %s started", job.id)
        try:
            result = self._handler(job.input, report)
        # BaseException too: a worker thread killed by a handler's SystemExit would leave every later job queued.
        except BaseException as exc:  # noqa: BLE001
            log.exception("job %s raised %s", job.id, type(exc).__name__)
            return FAILED, None, _clip(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if not isinstance(result, dict):
            return FAILED, None, f"the handler returned {type(result).__name__}, not a dict"
        # As Runpod does: "error" marks the job FAILED and the rest of the dict stays its output.
        output = dict(result)
        error = output.pop("error", None)
        try:
            json.dumps(output, allow_nan=False)
        except (TypeError, ValueError) as exc:
            # Caught here, once, rather than as a 500 on every later /status of this job.
            return FAILED, None, _clip(f"the handler's output is not plain JSON: {exc}")
        log.info("job %s %s", job.id, "failed" if error else "completed")
        return (FAILED if error else COMPLETED), output or None, _clip(str(error)) if error else None

    def _finish(self, job: _Job, status: str, output: Any = None, error: str | None = None) -> None:
        job.status, job.output, job.error, job.finished = status, output, error, time.monotonic()
        self._counts[status] += 1
        self._cond.notify_all()

    def _forget_expired(self) -> None:
        cutoff = time.monotonic() - self.retention_s
        expired = [job_id for job_id, job in self._jobs.items() if job.finished is not None and job.finished < cutoff]
        for job_id in expired:
            del self._jobs[job_id]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


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
          retention_s: float = DEFAULT_RETENTION_S, log_level: str = "info") -> None:
    """Serve the API under uvicorn until SIGTERM/SIGINT, then return once the running job has finished (see
    `_DrainingServer`). A second signal stops it at once and, as uvicorn does, ends the process by that signal."""
    if api_key is None:
        log.warning("no API key set: anyone who can reach %s:%d can submit jobs", host, port)
    app = create_app(handler, api_key, max_queued=max_queued, retention_s=retention_s)
    # One process, never uvicorn's `workers`: the queue and the job records live in this process's memory, so a
    # second process would keep its own queue, run a second job on the same GPU, and 404 the other's job ids.
    # The graceful-shutdown timeout only bounds idle or stuck connections: the job itself was waited for before.
    config = uvicorn.Config(app, host=host, port=port, workers=1, log_level=log_level, timeout_graceful_shutdown=10)
    _DrainingServer(config, app.state.queue).run()
