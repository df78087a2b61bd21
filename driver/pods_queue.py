"""The Pods server's job queue: Runpod's job states, one worker thread, jobs kept for a while after they finish.

Jobs run one at a time: one GPU runs one swap at a time, and a second would only slow both and risk running out of
GPU memory. The queue lives in memory, so a restart forgets it, as a lost Runpod worker loses its job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})

DEFAULT_MAX_QUEUED = 100
DEFAULT_RETENTION_S = 3600.0
MAX_ERROR_CHARS = 1000
MAX_PROGRESS_CHARS = 500

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
