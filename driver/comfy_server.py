"""Starting and stopping a local ComfyUI server with the ugc_swap node pack linked in.

ComfyUI's code lives in the shared environment cache (see bin/setup); everything a run writes (custom_nodes
link, models, input, output, temp) lives under a base directory of the caller's choosing, so several clones
and test sessions can share one ComfyUI install without touching each other's files.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .errors import ComfyUnavailableError

NODE_PACK_DIR = Path(__file__).resolve().parent.parent / "custom_nodes" / "ugc_swap"


def _terminate_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM ComfyUI when the worker that started it dies, even by
    SIGKILL, so a killed worker never leaves a server holding memory and a port (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def comfyui_dir_from_env() -> Path:
    value = os.environ.get("UGC_SWAP_COMFYUI_DIR")
    if not value:
        raise ComfyUnavailableError("UGC_SWAP_COMFYUI_DIR is not set; run bin/setup (the bin/ scripts set it)")
    path = Path(value)
    if not (path / "main.py").is_file():
        raise ComfyUnavailableError(f"UGC_SWAP_COMFYUI_DIR={path} holds no ComfyUI main.py; run bin/setup")
    return path


def link_node_pack(base_dir: Path) -> Path:
    """Make `base_dir/custom_nodes/ugc_swap` point at this checkout's node pack (idempotent)."""
    link = base_dir / "custom_nodes" / "ugc_swap"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == NODE_PACK_DIR:
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(NODE_PACK_DIR, target_is_directory=True)
    return link


# What ComfyUI's process may see of the worker's environment: how to run (paths, locale, threads, GPUs, the
# ffmpeg override), never the worker's secrets (cloud keys, webhook secret, Airtable and Pods keys, the C2PA key),
# which it has no use for and which its nodes, logs and crash reports would otherwise carry.
_CHILD_ENV_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR",
                              "TMP", "TEMP", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONHASHSEED",
                              "PYTHONDONTWRITEBYTECODE", "UGC_SWAP_FFMPEG"})
_CHILD_ENV_PREFIXES = ("LC_", "LD_", "CUDA_", "NVIDIA_", "OMP_", "MKL_", "OPENBLAS_", "MALLOC_", "GLOG_", "TF_",
                       "XDG_", "PYTORCH_", "TORCH_", "SSL_CERT_", "GST_")
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL")


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` a ComfyUI child process gets."""
    return {name: value for name, value in environ.items()
            if (name in _CHILD_ENV_NAMES or name.startswith(_CHILD_ENV_PREFIXES))
            and not any(word in name.upper() for word in _SECRET_WORDS)}


def wait_until_answering(url: str, timeout_s: float, process: subprocess.Popen,
                         describe_failure=lambda: "", probe_path: str = "/system_stats", name: str = "ComfyUI") -> None:
    """Poll `url` + `probe_path` until it answers; fail early if `process` (the server or its launcher) exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ComfyUnavailableError(f"{name} exited with code {process.returncode}: {describe_failure()}")
        try:
            if requests.get(f"{url}{probe_path}", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise ComfyUnavailableError(f"{name} did not answer within {timeout_s:.0f} s: {describe_failure()}")


@dataclass
class LocalComfyUI:
    """A ComfyUI child process; use as a context manager, or call start() and stop()."""

    base_dir: Path
    comfyui_dir: Path = field(default_factory=comfyui_dir_from_env)
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    cpu: bool = True
    extra_args: tuple[str, ...] = ()
    # Another environment's interpreter (an artist's ComfyUI in the clean-install test); by default this one's.
    python: str = sys.executable
    # False when the caller has put a real copy of the pack in base_dir/custom_nodes, as ComfyUI-Manager does.
    link_pack: bool = True
    environ: Mapping[str, str] | None = None  # what child_environment() filters; by default os.environ
    _process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "comfyui.log"

    def start(self, ready_timeout_s: float = 180.0) -> LocalComfyUI:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.link_pack:
            link_node_pack(self.base_dir)
        command = [
            self.python, "main.py", "--listen", self.host, "--port", str(self.port),
            "--disable-auto-launch", "--disable-api-nodes", "--database-url", "sqlite:///:memory:",
            "--base-directory", str(self.base_dir.resolve()),
            *(["--cpu"] if self.cpu else []), *self.extra_args,
        ]  # fmt: skip
        env = {**child_environment(os.environ if self.environ is None else self.environ), "PYTHONUNBUFFERED": "1"}
        # glibc gives each thread that allocates its own malloc arena; torch, mediapipe and the node threads leave
        # ~40 MB of arena slack in ComfyUI at 1080p (measured). Two arenas keep it small; a caller's value wins.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                command, cwd=self.comfyui_dir, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                preexec_fn=_terminate_with_parent,
            )
        atexit.register(self.stop)
        self._wait_ready(ready_timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        try:
            wait_until_answering(self.url, timeout_s, self._process, self.log_tail)
        except ComfyUnavailableError:
            self.stop()
            raise

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        atexit.unregister(self.stop)
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> LocalComfyUI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
