"""A fault soak: short jobs, one after another, through a Pods worker (which owns its ComfyUI) and a Runpod local-API
worker (on a ComfyUI of its own behind a proxy that can reset its connections), every job hit by the fault the
seeded schedule gives it (soak_faults.py). Each job is judged by what Make.com would see: the API's answer, the
signed webhook, the Airtable row and the bucket; memory is the PSS of each worker's process tree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from bench.process_memory import tree_pss
from driver.comfy_server import LocalComfyUI

from .fault_proxy import CuttableTcpProxy, FaultyHttpProxy
from .file_server import Route
from .soak_faults import Fault, schedule
from .worker_stack import BUCKET, PODS_API_KEY, WorkerStack, comfyui_pids, start_on_free_port, stop_process

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}
JOB_TIMEOUT_S = 120.0  # the workers' UGC_SWAP_JOB_TIMEOUT_S; a job not ended by this plus a margin is hung
_MARGIN_S = 90.0
_COMMANDS = {"pods": (["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"], "/health"),
             "runpod": (["runpod_handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port",
                         "{port}"], "/")}


@dataclass
class JobOutcome:
    index: int
    worker: str
    fault: str
    expect: str
    record_id: str = ""
    status: str = "lost"  # Complete, Failed, or lost (no channel says how it ended)
    error_code: str | None = None
    seconds: float = 0.0
    hung: bool = False
    fired: bool = True  # a mid-job fault that found no running job to hit is counted as not fired
    uploads: int = 0  # result videos in the bucket for the record
    webhook_keys: int = 0  # distinct Idempotency-Keys the webhook received for the record
    airtable: str | None = None
    peak_pss_mb: float = 0.0

    @property
    def as_expected(self) -> bool:
        got = "Complete" if self.status == "Complete" else self.error_code
        return got == self.expect and self.uploads == (1 if self.status == "Complete" else 0) \
            and self.airtable == self.status and not self.hung


@dataclass
class _Worker:
    kind: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    url: str = ""
    extra_pids: tuple[int, ...] = ()  # processes outside its tree that serve it (the Runpod worker's ComfyUI)

    def start(self) -> None:
        args, probe = _COMMANDS[self.kind]
        self.process, port = start_on_free_port(args, self.env, self.log, probe)
        self.url = f"http://127.0.0.1:{port}"

    def pss_mb(self) -> float:
        total = 0
        for pid in (self.process.pid if self.process else None, *self.extra_pids):
            try:
                total += tree_pss(psutil.Process(pid)) if pid else 0
            except psutil.Error:
                continue
        return total / 2**20


@dataclass
class Soak:
    work_dir: Path
    s3_endpoint: str
    clip: Path  # a short video with a face
    avatar: Path
    outcomes: list[JobOutcome] = field(default_factory=list)
    restarts: int = 0

    def __enter__(self) -> Soak:
        self._exit = ExitStack()
        try:
            self._start()
        except BaseException:
            self._exit.close()  # nothing half-started is left running
            raise
        return self

    def _start(self) -> None:
        self.stack = self._exit.enter_context(WorkerStack(self.s3_endpoint, self.work_dir))
        self.s3 = self._exit.enter_context(FaultyHttpProxy(self.s3_endpoint))
        comfy = LocalComfyUI(self.work_dir / "runpod_comfyui").start()
        self._exit.callback(comfy.stop)
        self.cuttable = self._exit.enter_context(CuttableTcpProxy(int(comfy.url.rsplit(":", 1)[1])))
        common = {"UGC_SWAP_S3_ENDPOINT_URL": self.s3.url, "UGC_SWAP_DOWNLOAD_TIMEOUT_S": "5",
                  "UGC_SWAP_WEBHOOK_TIMEOUT_S": "1", "UGC_SWAP_WEBHOOK_ATTEMPTS": "3",
                  "UGC_SWAP_JOB_TIMEOUT_S": str(int(JOB_TIMEOUT_S)), "RUNPOD_LOG_LEVEL": "WARN"}
        self.workers = {
            "pods": _Worker("pods", self.stack.environment(**common, UGC_SWAP_WORK_DIR=str(self.work_dir / "pods")),
                            self.work_dir / "pods.log"),
            "runpod": _Worker("runpod", self.stack.environment(**common, UGC_SWAP_WORK_DIR=str(self.work_dir / "rp"),
                                                               UGC_SWAP_COMFYUI_URL=self.cuttable.url),
                              self.work_dir / "runpod.log", extra_pids=(comfy._process.pid,)),
        }
        for worker in self.workers.values():
            worker.start()
            self._exit.callback(lambda w=worker: w.process and stop_process(w.process))

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def run(self, jobs: int, seed: int, progress=print) -> list[JobOutcome]:
        for index, (kind, fault) in enumerate(schedule(jobs, seed)):
            outcome = self._one(index, self.workers[kind], fault)
            self.outcomes.append(outcome)
            progress(f"{index + 1:3d}/{jobs} {kind:6s} {fault.name:18s} → {outcome.status}"
                     f"{' ' + outcome.error_code if outcome.error_code else ''} in {outcome.seconds:.1f} s, "
                     f"{outcome.peak_pss_mb:.0f} MB{'' if outcome.as_expected else '  UNEXPECTED'}")
        return self.outcomes

    def _one(self, index: int, worker: _Worker, fault: Fault) -> JobOutcome:
        name = f"soak{index:03d}-{fault.name}"
        long_swap = fault.fired_mid_job
        request = self.stack.make_request(self.clip, self.avatar, name,
                                          segments="0-end swap" if long_swap else "0-1 swap, 1-end keep")
        record = request["input"]["record_id"]
        outcome = JobOutcome(index, worker.kind, fault.name, fault.expect, record)
        self._arm(fault, request, name)
        answer: dict = {}
        started = time.monotonic()
        thread = threading.Thread(target=self._submit_and_wait, args=(worker, request, answer), daemon=True)
        thread.start()
        peak = 0.0
        deadline = started + JOB_TIMEOUT_S + _MARGIN_S
        fired = not fault.fired_mid_job
        while thread.is_alive() and time.monotonic() < deadline:
            peak = max(peak, worker.pss_mb())
            if not fired:
                fired = self._fire(fault, worker, answer)
            thread.join(0.2)
        outcome.seconds = time.monotonic() - started
        outcome.hung, outcome.fired, outcome.peak_pss_mb = thread.is_alive(), fired, peak
        self._disarm()
        if fault.name == "worker_sigterm":
            self._restart(worker)
        self._judge(outcome, answer.get("output"))
        return outcome

    def _submit_and_wait(self, worker: _Worker, request: dict, answer: dict) -> None:
        try:
            if worker.kind == "runpod":  # the SDK's local API runs the handler inside /runsync
                answer.update(requests.post(f"{worker.url}/runsync", json=request,
                                            timeout=JOB_TIMEOUT_S + _MARGIN_S).json())
                return
            job_id = requests.post(f"{worker.url}/run", json=request, headers=AUTH, timeout=30).json()["id"]
            answer["id"] = job_id
            deadline = time.monotonic() + JOB_TIMEOUT_S + _MARGIN_S
            while time.monotonic() < deadline:
                status = requests.get(f"{worker.url}/status/{job_id}", headers=AUTH, timeout=30).json()
                answer["progress"] = status.get("progress")
                if status["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                    answer.update(status)
                    return
                time.sleep(0.2)
        except requests.RequestException as exc:  # the worker went away (SIGTERM): the webhook tells the end
            answer["unreachable"] = str(exc)

    def _arm(self, fault: Fault, request: dict, name: str) -> None:
        body, files = request["input"], self.stack.files
        if fault.name == "s3_503":
            self.s3.fail_next("PUT", 503, count=2, path_part=".mp4")
        elif fault.name == "s3_500_for_good":
            self.s3.fail_next("PUT", 500, count=30, path_part=".mp4")
        elif fault.name == "s3_slow":
            self.s3.slow_next("PUT", 2.0, count=3)
        elif fault.name == "webhook_500":
            self.stack.webhook.script = [(200, 0.0, {})] * len(self.stack.webhook.requests) + [(500, 0.0, {}),
                                                                                              (200, 0.0, {})]
        elif fault.name == "webhook_timeout":
            self.stack.webhook.script = [(200, 0.0, {})] * len(self.stack.webhook.requests) + [(200, 2.5, {})]
        elif fault.name == "airtable_429":
            self.stack.airtable.fail_next(429, 2)
        elif fault.name == "airtable_503":
            self.stack.airtable.fail_next(503, 1)
        elif fault.name == "download_1kbps":
            files.routes[f"/{name}/video.mp4"] = Route(file=self.clip, headers={"Content-Type": "video/mp4"},
                                                       drip_delay_s=1.0)
        elif fault.name == "download_cut":
            size = self.clip.stat().st_size
            files.routes[f"/{name}/video.mp4"] = Route(body=self.clip.read_bytes()[:size // 2],
                                                       headers={"Content-Type": "video/mp4"}, announce_length=size)
        elif fault.name == "bad_avatar":
            self.stack.serve_text_as(f"/{name}/avatar.png", b"<html><body>Sorry, this page is gone</body></html>")
        elif fault.name == "missing_video":
            del files.routes[f"/{name}/video.mp4"]

    def _disarm(self) -> None:
        self.s3.failures.clear()
        self.s3.delays.clear()
        self.stack.webhook.script = [(200, 0.0, {})]
        self.stack.airtable.clear_failures()

    def _fire(self, fault: Fault, worker: _Worker, answer: dict) -> bool:
        """Fire a mid-job fault once the job is swapping; True once fired."""
        if worker.kind == "pods":
            progress = answer.get("progress") or ""
            if "swapping faces:" not in progress or progress.split(":")[1].strip().startswith("0/"):
                return False
            if fault.name == "comfyui_killed":
                pids = comfyui_pids(self.work_dir / "pods" / "comfyui")
                if not pids:
                    return False
                os.kill(pids[0], signal.SIGKILL)
            elif fault.name == "worker_sigterm":
                worker.process.send_signal(signal.SIGTERM)  # as a container stop does: the worker, not its group
            return True
        if fault.name == "websocket_dropped":
            running = requests.get(self.cuttable.url + "/queue", timeout=5).json().get("queue_running")
            if not running:
                return False
            time.sleep(0.3)
            return self.cuttable.cut_all() > 0
        return True

    def _restart(self, worker: _Worker) -> None:
        try:
            worker.process.wait(JOB_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop_process(worker.process)
        worker.start()
        self.restarts += 1

    def _judge(self, outcome: JobOutcome, output: dict | None) -> None:
        record = outcome.record_id
        # This record's webhooks only, checked now (older ones are past the receiver's replay window by design).
        bodies = [b for b in self.stack.webhook_bodies(record) if b.get("status") in ("Complete", "Failed")]
        outcome.webhook_keys = len({r.headers.get("Idempotency-Key") for r in self.stack.webhook_requests(record)})
        final = output if isinstance(output, dict) and output.get("status") in ("Complete", "Failed") else \
            (bodies[-1] if bodies else None)
        if final is not None:
            outcome.status, outcome.error_code = final["status"], final.get("error_code")
        outcome.airtable = self.stack.airtable.fields_of(record).get("Status")
        if final is None and outcome.airtable in ("Complete", "Failed"):
            outcome.status = outcome.airtable
        listed = self.stack.s3().list_objects_v2(Bucket=BUCKET, Prefix=f"ugc-swap/{record}/").get("Contents", [])
        outcome.uploads = sum(1 for item in listed if item["Key"].endswith(".mp4"))
