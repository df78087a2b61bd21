"""Everything a deployed worker talks to, on loopback: input host, S3 (moto), Make.com webhook, Airtable.

The worker-mode tests (Runpod local API, Pods server, watch) start the real worker process against this stack with
the same environment variables a Runpod template sets, then assert on what each service received.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from driver.c2pa_credentials import make_chain
from driver.comfy_server import free_port, wait_until_answering
from driver.s3_output import S3Settings, s3_client
from driver.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

from .airtable_standin import AirtableStandIn
from .file_server import FileServer, Route
from .http_receiver import Recorded, ScriptedReceiver
from .moto_s3 import TEST_KEY_ID, TEST_SECRET, aws_test_credentials

REPO = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec-test-0123456789"
AIRTABLE_KEY = "patTESTKEY.0123456789abcdef"
PODS_API_KEY = "pods-test-key-0123456789"
# The C2PA signer a deployer would give the worker as secrets, and the CA a checker trusts (made once per run).
C2PA_SIGNER, C2PA_TEST_CA = make_chain("ugc-swap test")
_C2PA_KEY_LINE = C2PA_SIGNER.key_pem.decode().splitlines()[1]  # a line of the key's body: what a leak would show
SECRETS = (WEBHOOK_SECRET, AIRTABLE_KEY, PODS_API_KEY, TEST_SECRET, _C2PA_KEY_LINE)
BUCKET = "ugc-results"
# (arguments, environment, port, log path, probe path) -> the worker's process, answering on the port
Launcher = Callable[[list[str], dict[str, str], int, Path, str], subprocess.Popen]
BASE_ID = "appTESTBASE00001"
TABLE = "Customers"


@dataclass
class WorkerStack:
    s3_endpoint: str
    work_dir: Path
    files: FileServer = field(default_factory=FileServer)
    webhook: ScriptedReceiver = field(default_factory=ScriptedReceiver)
    airtable: AirtableStandIn = field(default_factory=lambda: AirtableStandIn(AIRTABLE_KEY, BASE_ID, TABLE))

    def __enter__(self) -> WorkerStack:
        self._stack = ExitStack()
        for service in (self.files, self.webhook, self.airtable):
            self._stack.enter_context(service)
        requests.post(self.s3_endpoint + "/moto-api/reset", timeout=5)
        self.s3().create_bucket(Bucket=BUCKET)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def s3(self):
        return s3_client(S3Settings(bucket=BUCKET, endpoint_url=self.s3_endpoint, region="us-east-1"))

    def environment(self, **overrides: str) -> dict[str, str]:
        """What a Runpod template would set: config only through the environment, AWS keys via boto3's chain."""
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": TEST_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": TEST_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "UGC_SWAP_S3_BUCKET": BUCKET,
            "UGC_SWAP_S3_ENDPOINT_URL": self.s3_endpoint,
            "UGC_SWAP_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "UGC_SWAP_WEBHOOK_ATTEMPTS": "3",
            "UGC_SWAP_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
            "UGC_SWAP_AIRTABLE_API_KEY": AIRTABLE_KEY,
            "UGC_SWAP_AIRTABLE_BASE_ID": BASE_ID,
            "UGC_SWAP_AIRTABLE_TABLE": TABLE,
            "UGC_SWAP_AIRTABLE_ENDPOINT_URL": self.airtable.url,
            "UGC_SWAP_WORK_DIR": str(self.work_dir),
            "UGC_SWAP_COMFYUI_DEVICE": "cpu",
            "UGC_SWAP_ENGINES": "fast",  # no Wan models here: a worker offering wan would refuse to start
            "UGC_SWAP_API_KEY": PODS_API_KEY,
            "UGC_SWAP_C2PA_CERT_CHAIN": C2PA_SIGNER.chain_pem.decode(),
            "UGC_SWAP_C2PA_KEY": C2PA_SIGNER.key_pem.decode(),
            "PYTHONUNBUFFERED": "1",
        }
        env.update(overrides)
        return env

    def make_request(self, video: Path, avatar: Path, name: str, **extra: str) -> dict:
        """A Make.com-shaped request with inputs served over HTTP and its row waiting in Airtable as Pending."""
        video_url = self.files.serve_file(f"/{name}/video.mp4", video, "video/mp4") + "?X-Amz-Signature=presigned-sig"
        avatar_url = self.files.serve_file(f"/{name}/avatar.png", avatar, "image/png")
        record_id = self.airtable.seed({"Status": "Pending", "Source_Video_URL": video_url,
                                        "Avatar_Image_URL": avatar_url})
        body = {
            "record_id": record_id,
            "source_video_url": video_url,
            "avatar_image_url": avatar_url,
            "webhook_url": self.webhook.url + "/hook/secret-path",
            "consent": f"consent-{name} 2026-11-30T10:00:00Z",
            "unknown_field_from_make": "ignored",
        }
        body.update(extra)
        return {"input": body}

    def serve_text_as(self, path: str, text: bytes) -> str:
        self.files.routes[path] = Route(body=text, headers={"Content-Type": "image/png"})
        return self.files.url(path)

    def webhook_requests(self, record_id: str | None = None) -> list[Recorded]:
        """The webhook requests received (for one record, if given), in order."""
        return [r for r in self.webhook.requests
                if record_id is None or json.loads(r.body).get("record_id") == record_id]

    def webhook_bodies(self, record_id: str | None = None) -> list[dict]:
        """Every webhook received (for one record, if given), each checked against its HMAC signature."""
        bodies = []
        for request in self.webhook_requests(record_id):
            headers = {k.lower(): v for k, v in request.headers.items()}
            assert verify_signature(WEBHOOK_SECRET, headers[TIMESTAMP_HEADER.lower()], request.body,
                                    headers[SIGNATURE_HEADER.lower()]), "webhook signature does not verify"
            bodies.append(json.loads(request.body))
        return bodies

    def comfyui_job_files(self) -> list[Path]:
        base = self.work_dir / "comfyui"
        return [p for folder in ("input", "output", "temp") for p in (base / folder).rglob("*") if p.is_file()]


@contextmanager
def running_worker(s3_endpoint: str, work_dir: Path, args: list[str], probe_path: str, launch: Launcher | None = None,
                   **env_overrides: str) -> Iterator[tuple[WorkerStack, str]]:
    """The stack plus one worker process (Runpod local API or Pods server) configured for it, with
    `env_overrides` on top of the standard environment; yields the stack and the worker's URL. `launch` starts
    the worker (default: a local Python process; the Docker image test passes a container launcher)."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        aws_test_credentials(patch)  # the test process reads S3 too
        with WorkerStack(s3_endpoint, work_dir) as stack:
            env = stack.environment(**env_overrides)
            process, port = start_on_free_port(args, env, work_dir / "worker.log", probe_path,
                                               launch or start_worker_process)
            try:
                yield stack, f"http://127.0.0.1:{port}"
            finally:
                stop_process(process)
            assert_no_comfyui_left(work_dir / "comfyui")


def start_on_free_port(args: list[str], env: dict[str, str], log_path: Path, probe_path: str,
                       launch: Launcher | None = None) -> tuple[subprocess.Popen, int]:
    """A worker started with "{port}" in `args` replaced by a free port, answering there: (process, port).

    The worker binds its port itself (the runpod SDK takes only a number), so a port found free may be taken
    before it does: a worker that exits for that reason is started again on another one."""
    for attempt in range(3):
        port = free_port()
        command = [arg.replace("{port}", str(port)) for arg in args]
        try:
            return (launch or start_worker_process)(command, env, port, log_path, probe_path), port
        except Exception:
            log = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
            if attempt == 2 or "address already in use" not in log.lower():
                raise
    raise AssertionError("three attempts and neither a worker nor an error")


def comfyui_pids(base_dir: Path) -> list[int]:
    """Process ids of ComfyUI servers running with `base_dir` as their base directory."""
    # "--" ends pgrep's options: the pattern itself starts with dashes.
    found = subprocess.run(["pgrep", "-f", "--", f"--base-directory {base_dir}"], capture_output=True, text=True)
    if found.returncode not in (0, 1):
        raise RuntimeError(f"pgrep failed: {found.stderr.strip()}")
    return [int(pid) for pid in found.stdout.split()]


def assert_no_comfyui_left(base_dir: Path, wait_s: float = 15.0) -> None:
    """A stopped worker must take its ComfyUI with it, or every restart leaks a server and its memory."""
    deadline = time.monotonic() + wait_s
    while pids := comfyui_pids(base_dir):
        if time.monotonic() > deadline:
            raise AssertionError(f"ComfyUI still running after its worker stopped: pids {pids}")
        time.sleep(0.5)


def start_worker_process(args: list[str], env: dict[str, str], port: int, log_path: Path,
                         probe_path: str, timeout_s: float = 240.0) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    await_worker(process, port, log_path, probe_path, timeout_s)
    return process


def await_worker(process: subprocess.Popen, port: int, log_path: Path, probe_path: str, timeout_s: float,
                 name: str = "worker") -> None:
    """Wait until the worker answers on `port`; stop it and raise (with its log's tail) if it exits or never does."""
    try:
        wait_until_answering(f"http://127.0.0.1:{port}", timeout_s, process,
                             lambda: log_path.read_text(errors="replace")[-3000:], probe_path=probe_path, name=name)
    except BaseException:
        stop_process(process)
        raise


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
