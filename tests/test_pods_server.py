"""Pods mode against a real uvicorn server on loopback, driven by `requests` as Make.com would drive it."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import uvicorn

from driver.pods_queue import JobQueue, QueueClosedError
from driver.pods_server import create_app

REPO = Path(__file__).resolve().parent.parent
KEY = "pods-test-key-5f1c9a"
GATE_TIMEOUT_S = 5.0  # a failed test must not leave the worker blocked for ever

# What the handler did, as (tag, "start" | "end", monotonic time), and the gates tests open to let a job finish.
# A test takes its gate before submitting the job, so the test and the worker never both create it.
EVENTS: list[tuple[str, str, float]] = []
GATES: defaultdict[str, threading.Event] = defaultdict(threading.Event)

T = TypeVar("T")


def scripted_handler(job_input: dict[str, Any], progress: Callable[[str], None]) -> dict[str, Any]:
    """Does what its input says: report progress, wait at a gate or sleep, then return, fail or raise."""
    tag = job_input.get("tag", "")
    EVENTS.append((tag, "start", time.monotonic()))
    for text in job_input.get("progress", []):
        progress(text)
    if "gate" in job_input:
        GATES[job_input["gate"]].wait(GATE_TIMEOUT_S)
    if "until_file" in job_input:  # a gate another process can open
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not Path(job_input["until_file"]).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    time.sleep(job_input.get("sleep_s", 0))
    EVENTS.append((tag, "end", time.monotonic()))
    if "raise" in job_input:
        raise ValueError(job_input["raise"])
    if job_input.get("nan"):
        return {"score": float("nan")}
    return dict(job_input.get("result", {"tag": tag}))


@pytest.fixture(autouse=True)
def fresh_script() -> Iterator[None]:
    EVENTS.clear()
    GATES.clear()
    yield
    for gate in GATES.values():
        gate.set()


@contextmanager
def pods_server(api_key: str | None = None, **options: Any) -> Iterator[str]:
    app = create_app(scripted_handler, api_key, **options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before uvicorn starts, so no other process can take the port meanwhile
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    until(lambda: server.started, "uvicorn to start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        for gate in GATES.values():
            gate.set()
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def base() -> Iterator[str]:
    with pods_server() as url:
        yield url


def until(probe: Callable[[], T], what: str, timeout_s: float = 5.0) -> T:
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return value


def status(base: str, job_id: str, **kwargs: Any) -> dict[str, Any]:
    response = requests.get(f"{base}/status/{job_id}", timeout=5, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_status(base: str, job_id: str, wanted: str) -> dict[str, Any]:
    return until(lambda: (body := status(base, job_id))["status"] == wanted and body, f"{job_id} to be {wanted}")


def submit(base: str, job_input: dict[str, Any]) -> str:
    response = requests.post(base + "/run", json={"input": job_input}, timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"id": body["id"], "status": "IN_QUEUE"}
    return body["id"]


def health(base: str) -> dict[str, Any]:
    response = requests.get(base + "/health", timeout=5)
    assert response.status_code == 200
    return response.json()


def test_runsync_returns_the_handlers_output(base):
    started = time.monotonic()
    response = requests.post(base + "/runsync", json={"input": {"result": {"url": "s3://b/out.mp4"}, "sleep_s": 0.1}})
    wall_ms = 1000 * (time.monotonic() - started)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "status", "output", "delayTime", "executionTime"}
    assert body["status"] == "COMPLETED" and body["output"] == {"url": "s3://b/out.mp4"}
    assert str(uuid.UUID(body["id"])) == body["id"]
    # Times in ms as Runpod gives them: the handler's 0.1 s at least, and both within the call's own duration.
    assert 0 <= body["delayTime"] <= wall_ms and 100 <= body["executionTime"] <= wall_ms
    # The cap on ?wait= clamps rather than refuses, as Runpod's does.
    assert requests.post(base + "/runsync?wait=99999999", json={"input": {}}).json()["status"] == "COMPLETED"


def test_run_then_poll_status_sees_queue_progress_and_result(base):
    first_gate = GATES["first"]
    first = submit(base, {"tag": "first", "gate": "first", "progress": ["loading", "swapping segment 1/2"]})
    second = submit(base, {"tag": "second", "result": {"url": "https://x/2.mp4"}})
    running = wait_for_status(base, first, "IN_PROGRESS")
    assert running["progress"] == "swapping segment 1/2" and running["delayTime"] >= 0
    assert status(base, second) == {"id": second, "status": "IN_QUEUE"}
    assert requests.post(f"{base}/status/{second}").json() == {"id": second, "status": "IN_QUEUE"}  # POST works too
    first_gate.set()
    done = wait_for_status(base, second, "COMPLETED")
    assert done["output"] == {"url": "https://x/2.mp4"} and "progress" not in done
    assert status(base, first)["output"] == {"tag": "first"}


def test_jobs_run_one_at_a_time_in_fifo_order(base):
    gate_a = GATES["a"]
    ids = [submit(base, {"tag": "a", "gate": "a"})] + [submit(base, {"tag": t, "sleep_s": 0.05}) for t in "bc"]
    wait_for_status(base, ids[0], "IN_PROGRESS")
    assert health(base) == {"jobs": {"completed": 0, "failed": 0, "inProgress": 1, "inQueue": 2, "retried": 0},
                            "workers": {"idle": 0, "running": 1}}
    time.sleep(0.1)  # b and c would have started by now if jobs ran side by side
    assert [tag for tag, _, _ in EVENTS] == ["a"]
    gate_a.set()
    wait_for_status(base, ids[2], "COMPLETED")
    assert [(tag, what) for tag, what, _ in EVENTS] == [
        ("a", "start"), ("a", "end"), ("b", "start"), ("b", "end"), ("c", "start"), ("c", "end")]
    times = [at for _, _, at in EVENTS]
    assert times == sorted(times)
    assert health(base)["jobs"]["completed"] == 3


def test_an_error_in_the_result_fails_the_job_and_keeps_the_rest_as_output(base):
    job_input = {"result": {"error": "no face found in segment 2", "segment": 2}}
    body = requests.post(base + "/runsync", json={"input": job_input}).json()
    assert body["status"] == "FAILED"
    assert body["error"] == "no face found in segment 2" and body["output"] == {"segment": 2}
    assert body["executionTime"] >= 0


def test_an_exception_fails_the_job_with_its_type_and_message_and_logs_the_traceback(base, caplog):
    with caplog.at_level(logging.ERROR, logger="driver.pods_queue"):
        response = requests.post(base + "/runsync", json={"input": {"raise": "avatar has two faces"}})
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "FAILED" and body["error"] == "ValueError: avatar has two faces"
    assert "output" not in body and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.name == "driver.pods_queue" and r.exc_info]
    assert body["id"] in record.getMessage()
    # The worker survived: the next job runs.
    assert requests.post(base + "/runsync", json={"input": {"tag": "next"}}).json()["output"] == {"tag": "next"}


def test_output_that_is_not_plain_json_fails_the_job_once(base):
    body = requests.post(base + "/runsync", json={"input": {"nan": True}}).json()
    assert body["status"] == "FAILED" and "not plain JSON" in body["error"]
    assert status(base, body["id"])["status"] == "FAILED"


def test_unknown_job_ids_are_404(base):
    for method, path in [("GET", "/status/nope"), ("POST", "/status/nope"), ("POST", "/cancel/nope")]:
        response = requests.request(method, base + path)
        assert response.status_code == 404, path
        assert "nope" in response.json()["error"]
    # Routing's own refusals carry Runpod's {"error": ...} too, not FastAPI's {"detail": ...}.
    assert requests.get(base + "/run").json() == {"error": "Method Not Allowed"}
    assert requests.get(base + "/nowhere").json() == {"error": "Not Found"}


@pytest.mark.parametrize(("body", "named"), [
    (b"not json", "not JSON"),
    (b"", "not JSON"),
    (b'["input"]', "not an array"),
    (b'{"inputs": {}}', "no 'input' field"),
    (b'{"input": "make it so"}', "'input' must be a JSON object, not a string"),
    (b'{"input": null}', "'input' must be a JSON object, not null"),
])
def test_a_bad_body_is_400_naming_what_is_wrong(base, body, named):
    for path in ("/run", "/runsync"):
        response = requests.post(base + path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert named in response.json()["error"]
    assert health(base)["jobs"]["inQueue"] == 0 and EVENTS == []


def test_unknown_top_level_fields_are_ignored_and_a_bad_wait_is_400(base):
    body = {"input": {"tag": "w"}, "webhook": "https://hook.example/x", "policy": {"ttl": 1}}
    assert requests.post(base + "/runsync", json=body).json()["output"] == {"tag": "w"}
    for wait in ("soon", "-1", "1.5"):
        response = requests.post(f"{base}/runsync?wait={wait}", json={"input": {}})
        assert response.status_code == 400 and "'wait'" in response.json()["error"]
    assert health(base)["jobs"]["completed"] == 1  # the refused calls queued nothing


def test_api_key_is_required_everywhere_but_health():
    with pods_server(api_key=KEY) as base:
        good = {"Authorization": f"Bearer {KEY}"}
        refused = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"},
                   {"Authorization": KEY}, {"Authorization": f"Bearer {KEY}x"}]
        for headers in refused:
            response = requests.post(base + "/run", json={"input": {}}, headers=headers)
            assert response.status_code == 401, headers
            assert "Bearer" in response.json()["error"] and KEY not in response.text
        ok = requests.post(base + "/runsync", json={"input": {"tag": "k"}}, headers=good).json()
        failed = requests.post(base + "/runsync", json={"input": {"result": {"error": "x"}}}, headers=good).json()
        assert (ok["status"], failed["status"]) == ("COMPLETED", "FAILED")
        assert requests.get(f"{base}/status/{ok['id']}").status_code == 401
        assert requests.post(f"{base}/cancel/{ok['id']}").status_code == 401
        assert status(base, ok["id"], headers=good)["output"] == {"tag": "k"}
        assert health(base) == {"jobs": {"completed": 1, "failed": 1, "inProgress": 0, "inQueue": 0, "retried": 0},
                                "workers": {"idle": 1, "running": 0}}


def test_an_empty_api_key_is_refused_rather_than_meaning_no_auth():
    with pytest.raises(ValueError, match="empty"):
        create_app(scripted_handler, " ")


def test_cancel_removes_a_queued_job_and_cannot_stop_a_running_one(base):
    busy_gate = GATES["busy"]
    running = submit(base, {"tag": "busy", "gate": "busy"})
    queued = submit(base, {"tag": "never"})
    wait_for_status(base, running, "IN_PROGRESS")
    assert requests.post(f"{base}/cancel/{queued}").json() == {"id": queued, "status": "CANCELLED"}
    answer = requests.post(f"{base}/cancel/{running}").json()
    assert answer["status"] == "IN_PROGRESS" and answer["id"] == running
    busy_gate.set()
    wait_for_status(base, running, "COMPLETED")
    time.sleep(0.05)
    assert status(base, queued) == {"id": queued, "status": "CANCELLED"}
    assert "never" not in {tag for tag, _, _ in EVENTS}


def test_a_full_queue_answers_429():
    with pods_server(max_queued=2) as base:
        hold_gate = GATES["hold"]
        running = submit(base, {"tag": "hold", "gate": "hold"})
        wait_for_status(base, running, "IN_PROGRESS")  # the running job takes no place in the queue
        waiting = [submit(base, {"tag": t}) for t in "xy"]
        for path in ("/run", "/runsync"):
            response = requests.post(base + path, json={"input": {"tag": "z"}})
            assert response.status_code == 429 and "full" in response.json()["error"]
        hold_gate.set()
        wait_for_status(base, waiting[1], "COMPLETED")
        assert submit(base, {"tag": "later"})


def test_runsync_with_a_short_wait_answers_in_progress_and_status_has_the_result_later(base):
    slow_gate = GATES["slow"]
    started = time.monotonic()
    body = requests.post(base + "/runsync?wait=150", json={"input": {"tag": "slow", "gate": "slow"}}).json()
    # An answer at all proves the wait ran out: the job is held at its gate until after it.
    assert time.monotonic() - started >= 0.15
    assert body["status"] == "IN_PROGRESS" and "output" not in body
    slow_gate.set()
    assert wait_for_status(base, body["id"], "COMPLETED")["output"] == {"tag": "slow"}


def test_finished_jobs_are_forgotten_after_the_retention():
    with pods_server(retention_s=0.3) as base:
        done = requests.post(base + "/runsync", json={"input": {}}).json()
        assert status(base, done["id"])["status"] == "COMPLETED"
        until(lambda: requests.get(f"{base}/status/{done['id']}").status_code == 404, "the record to be forgotten")
        assert health(base)["jobs"]["completed"] == 1  # the counters outlive the records


def test_the_queue_alone_waits_closes_and_joins():
    queue = JobQueue(scripted_handler)
    queue.start()
    slow_gate = GATES["slow"]
    slow = queue.submit({"tag": "slow", "gate": "slow"})
    queued = queue.submit({"tag": "queued"})
    until(lambda: queue.get(slow).status == "IN_PROGRESS", "the slow job to start")
    assert queue.wait("unknown", 0.1) is None
    queue.close()
    assert queue.get(queued).status == "CANCELLED"
    with pytest.raises(QueueClosedError):
        queue.submit({})
    assert not queue.join(0.05)  # the running job is let finish
    slow_gate.set()
    assert queue.join(5) and queue.wait(slow, 0).output == {"tag": "slow"}
    stats = queue.stats()
    assert (stats.completed, stats.cancelled, stats.in_progress, stats.in_queue) == (1, 1, 0, 0)


def test_sigterm_finishes_the_running_job_cancels_queued_ones_then_exits(tmp_path):
    # Bound here and handed over: no moment in which the port is free for another process to take.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.set_inheritable(True)
    port, fd = listener.getsockname()[1], listener.fileno()
    base = f"http://127.0.0.1:{port}"
    code = ("from driver.pods_server import serve; from tests.test_pods_server import scripted_handler; "
            f"serve(scripted_handler, '127.0.0.1', {port}, None, log_level='warning', fd={fd})")
    with open(tmp_path / "server.log", "wb") as server_log:
        server = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=server_log, stderr=subprocess.STDOUT,
                                  pass_fds=(fd,))
    listener.close()
    try:
        until(lambda: _answers(base + "/health"), "the server to start", timeout_s=15)
        answer: dict[str, Any] = {}
        release = tmp_path / "release"  # the job runs until the test creates this file: no race with a sleep
        runsync = threading.Thread(target=lambda: answer.update(requests.post(
            base + "/runsync", json={"input": {"tag": "last", "until_file": str(release)}}, timeout=60).json()))
        runsync.start()
        until(lambda: health(base)["jobs"]["inProgress"] == 1, "the job to start")
        queued = submit(base, {"tag": "queued"})
        server.send_signal(signal.SIGTERM)
        # The signal is handled between two bytecodes of the server's main thread: soon, not at once.
        refusal = until(lambda: _refusal(base), "new jobs to be refused")
        assert refusal == (503, "the server is shutting down and takes no new jobs")
        cancelled = status(base, queued)
        assert cancelled["status"] == "CANCELLED" and "shut down" in cancelled["error"]
        time.sleep(0.3)  # past uvicorn's 0.1 s tick: a server that stopped at once would refuse connections now
        assert health(base)["jobs"]["inProgress"] == 1
        release.touch()
        runsync.join(60)
        assert answer["status"] == "COMPLETED" and answer["output"] == {"tag": "last"}
        assert server.wait(10) == 0  # serve() returned, so its caller's cleanup would have run
        assert not _answers(base + "/health")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _refusal(base: str) -> tuple[int, str] | None:
    response = requests.post(base + "/run", json={"input": {}}, timeout=5)
    return None if response.ok else (response.status_code, response.json()["error"])


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False
