"""The worker image under podman: started like a Runpod template starts it, and searched for baked-in secrets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from .podman_env import Podman
from .worker_stack import Launcher, await_worker

# Names whose value is a secret: such a name followed by a value must never be in image metadata.
SECRET_NAME = re.compile(r"[A-Z0-9_]*(SECRET|API_KEY|ACCESS_KEY|TOKEN|PASSWORD)[A-Z0-9_]*=\S+")


def worker_config(env: dict[str, str]) -> dict[str, str]:
    """The variables a deployment sets, out of a worker's full environment: what differs from this process's
    own environment, plus the AWS credentials (the test process uses the same ones)."""
    return {k: v for k, v in env.items() if os.environ.get(k) != v or k.startswith("AWS_")}


def podman_run_args(name: str, image: str, config: Iterable[str],
                    volumes: Iterable[tuple[Path, str]] = ()) -> list[str]:
    """`podman run` on CPU with host networking; `-e NAME` without a value takes it from podman's environment,
    so no secret is ever on a command line."""
    args = ["run", "--rm", "--init", "--network", "host", "--name", name]
    for host_path, container_path in volumes:
        args += ["--volume", f"{host_path}:{container_path}"]
    for key in config:
        args += ["--env", key]
    return [*args, image]


def container_launcher(podman: Podman, image: str) -> Launcher:
    """A `running_worker` launcher that runs the worker in the image, its work folder mounted at the same path
    so the stack's checks (job files removed, log free of secrets) look at what the container wrote."""

    def launch(args: list[str], env: dict[str, str], port: int, log_path: Path, probe_path: str,
               timeout_s: float = 300.0) -> subprocess.Popen:
        config = worker_config(env)
        name = f"ugc-swap-test-{port}"
        work_dir = log_path.parent
        command = podman_run_args(name, image, config, [(work_dir, str(work_dir))])
        started = time.monotonic()
        with open(log_path, "ab") as log:
            process = podman.popen(*command, *args, env=config, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            await_worker(process, port, log_path, probe_path, timeout_s, name="worker container")
        except BaseException:
            podman.run("rm", "--force", name, check=False)
            raise
        # The cold start a Runpod worker pays before its first job (here on CPU), shown with `pytest -s`.
        print(f"\n{config.get('UGC_SWAP_MODE', 'serverless')} worker container answering after "
              f"{time.monotonic() - started:.1f} s")
        return process

    return launch


def secrets_in_metadata(podman: Podman, image: str, secrets: Iterable[str]) -> list[str]:
    """Secret values, and secret-named variables with a value, in the image's history and config."""
    history = podman.run("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    config = json.dumps(json.loads(podman.run("image", "inspect", image).stdout)[0]["Config"])
    found = [f"{s!r} in {where}" for where, text in (("history", history), ("config", config))
             for s in secrets if s in text]
    found += [f"{m.group(0)!r} in {where}" for where, text in (("history", history), ("config", config))
              for m in SECRET_NAME.finditer(text)]
    return found


def strings_in_saved_image(podman: Podman, image: str, needles: list[bytes], chunk: int = 64 * 1024**2) -> set[bytes]:
    """Which of `needles` occur anywhere in `podman save` of the image (every layer, uncompressed), streamed."""
    overlap = max(len(n) for n in needles) - 1
    found: set[bytes] = set()
    process = podman.popen("save", "--format", "docker-archive", image, stdout=subprocess.PIPE)
    tail = b""
    while block := process.stdout.read(chunk):
        window = tail + block
        found.update(n for n in needles if n not in found and n in window)
        tail = window[-overlap:] if overlap else b""
    if process.wait() != 0:
        raise RuntimeError(f"podman save {image} failed with {process.returncode}")
    return found
