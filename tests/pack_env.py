"""An artist's ComfyUI environment with the node pack installed the way ComfyUI-Manager installs it.

A fresh virtualenv gets ComfyUI 0.3.75's own requirements.txt (with torch, torchvision and torchaudio pinned as the
project's lock pins them, so pip takes them from the machine's wheel store instead of fetching another build),
then the pack's requirements.txt as the Manager installs it: `pip install <line>` for each requirement line, in
order. `pip freeze` is kept from before and after the pack's install, so a test can say what the pack changed.
A second set-up stands for an environment held on numpy 1, with README's constraint and one `pip install -r`.

Each result is cached under `$UGC_SWAP_CACHE/pack-env-<set-up>-<key>` (~6 GB with torch), the key a hash of
everything that decides it (Python version, what the environment held before, how the pack goes in, constraints,
the pack's requirements): a fresh CI clone reuses it, and a change to any of them builds a new one from scratch.
Environments unused for two weeks are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.podman_env import cache_root

REPO = Path(__file__).resolve().parent.parent
PACK_DIR = REPO / "custom_nodes" / "ugc_swap"
PACK_REQUIREMENTS = PACK_DIR / "requirements.txt"
TORCH_DISTRIBUTIONS = ("torch", "torchvision", "torchaudio")
_UNUSED_DAYS = 14
# ComfyUI 0.3.75 imports requests (app/frontend_management.py) without listing it; every working install has it.
COMFYUI_UNLISTED = ("requests",)


@dataclass(frozen=True)
class PackEnv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "venv" / "bin" / "python"

    @property
    def before_pack(self) -> dict[str, str]:
        return read_freeze(self.root / "freeze-before-pack.txt")

    @property
    def after_pack(self) -> dict[str, str]:
        return read_freeze(self.root / "freeze-after-pack.txt")

    def pip(self, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.python), "-m", "pip", "--disable-pip-version-check", *args],
                              capture_output=True, text=True, timeout=timeout_s, check=False)


def read_freeze(path: Path) -> dict[str, str]:
    """{canonical distribution name: version} from a `pip freeze` listing or the project's lock (same format)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0]
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def declared_requirements(text: str) -> list[tuple[Requirement, str]]:
    """Each requirement of a requirements file, with the comment block just above it (its stated reason)."""
    found, comment = [], []
    for line in text.splitlines():
        if line.startswith("#"):
            comment.append(line)
        elif line.split("#")[0].strip():
            found.append((Requirement(line.split("#")[0].strip()), "\n".join(comment)))
        else:
            comment = []
    return found


def torch_pins(lock: Path = REPO / "requirements" / "lock.txt") -> list[str]:
    pins = [line.strip() for line in lock.read_text().splitlines()
            if line.split("==")[0].strip().lower() in TORCH_DISTRIBUTIONS]
    assert len(pins) == len(TORCH_DISTRIBUTIONS), f"the lock must pin {TORCH_DISTRIBUTIONS}, found {pins}"
    return pins


@dataclass(frozen=True)
class ArtistSetup:
    """What an artist's environment holds before the pack (pip install arguments), how the pack goes in (line by
    line as ComfyUI-Manager does it, or one `pip install -r` as README's by-hand recipe does), and any constraint
    the artist puts on it (PIP_CONSTRAINT lines, as README's numpy 1 recipe does)."""

    name: str
    before: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    line_by_line: bool = False

    def key(self) -> str:
        digest = hashlib.sha256(f"{sys.version_info[0]}.{sys.version_info[1]}\n{self.name}\n{self.line_by_line}\n"
                                .encode())
        for arg in self.before + self.constraints:
            digest.update(Path(arg).read_bytes() if arg.endswith(".txt") else arg.encode())
            digest.update(b"\n--\n")
        digest.update(PACK_REQUIREMENTS.read_bytes())
        return digest.hexdigest()[:16]


def comfyui_setup(comfyui_dir: Path) -> ArtistSetup:
    """ComfyUI 0.3.75's own requirements, with torch as the lock pins it (the machine's wheel store has it); the
    pack installed the Manager's way."""
    return ArtistSetup("comfyui", (*torch_pins(), *COMFYUI_UNLISTED, "-r", str(comfyui_dir / "requirements.txt")),
                       line_by_line=True)


# An environment some other pack holds on numpy 1, installing the pack with README's constraint.
NUMPY1_SETUP = ArtistSetup("numpy1", ("numpy==1.26.4",), ("numpy<2",))


def manager_lines(requirements: str) -> list[str]:
    """The lines ComfyUI-Manager hands to pip one by one."""
    return [line.strip() for line in requirements.splitlines() if line.strip() and not line.strip().startswith("#")]


def _run_logged(command: list[str], log: Path, extra_env: dict[str, str] | None = None) -> None:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=1800,
                              env={**os.environ, **(extra_env or {})}, check=False)
    if done.returncode:
        raise RuntimeError(f"{command[2:5]} failed ({done.returncode}); last lines of {log}:\n"
                           + log.read_text()[-3000:])


def _freeze(python: Path, into: Path) -> None:
    listing = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                             check=True, timeout=300).stdout
    into.write_text(listing)


def _build(root: Path, setup: ArtistSetup) -> None:
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    _run_logged([*pip, "install", *setup.before], root / "before-install.log")
    _freeze(python, root / "freeze-before-pack.txt")
    constraint = root / "constraints.txt"
    constraint.write_text("".join(f"{line}\n" for line in setup.constraints))
    extra_env = {"PIP_CONSTRAINT": str(constraint)} if setup.constraints else {}  # pip reads it from the environment
    if setup.line_by_line:
        # ComfyUI-Manager (execute_install_script) runs `pip install <line>` for each line that is neither blank nor
        # a comment, in file order: no resolver ever sees the whole file, so the order must work on its own.
        for line in manager_lines(PACK_REQUIREMENTS.read_text()):
            _run_logged([*pip, "install", line], root / "pack-install.log", extra_env)
    else:
        _run_logged([*pip, "install", "-r", str(PACK_REQUIREMENTS)], root / "pack-install.log", extra_env)
    _freeze(python, root / "freeze-after-pack.txt")


def pack_env(setup: ArtistSetup) -> PackEnv:
    """The cached environment for this set-up and the current requirements, built first if missing (minutes)."""
    base = cache_root()
    base.mkdir(parents=True, exist_ok=True)
    key = setup.key()
    root = base / f"pack-env-{setup.name}-{key}"
    with open(base / f".lock-pack-env-{key}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions building the same key wait for each other
        if not (root / ".ready").is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            _build(root, setup)
            (root / ".ready").touch()
    (root / ".last-used").touch()
    _remove_unused(base, keep=root)
    return PackEnv(root)


def _remove_unused(base: Path, keep: Path) -> None:
    cutoff = time.time() - _UNUSED_DAYS * 86400
    for other in base.glob("pack-env-*"):
        marker = other / ".last-used"
        # Only environments someone finished and then left: one being built elsewhere has no marker yet.
        if other != keep and marker.is_file() and marker.stat().st_mtime < cutoff:
            shutil.rmtree(other, ignore_errors=True)
