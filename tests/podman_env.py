"""Podman on this machine, with everything it keeps (storage, base image, pip cache) outside the clone.

Container registries are unreachable here, so the Dockerfile's base image is made locally with debootstrap from
the machine's own Debian mirror and imported under a tag that carries a hash of its recipe: a fresh CI clone finds
the same tag (and podman's layer cache) under `$UGC_SWAP_CACHE/podman` and rebuilds nothing. The podman set-up
(runc, ulimits, overlay storage of our own) follows ../shared/FACTS.md, "Building and running the Docker image".
"""

from __future__ import annotations

import configparser
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUITE = "bookworm"
# python3 is what debootstrap needs to finish; the Dockerfile installs its own python3.11 like on the CUDA base.
BASE_PACKAGES = "ca-certificates,python3"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
APT_FILES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d", "/etc/apt/apt.conf.d")
PIP_CONFIG_FILES = (Path("/etc/pip.conf"), Path.home() / ".config" / "pip" / "pip.conf")
CERT_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def cache_root() -> Path:
    return Path(os.environ.get("UGC_SWAP_CACHE", Path.home() / ".cache" / "ugc-swap")).expanduser()


@dataclass(frozen=True)
class Podman:
    """Runs podman with this project's own containers.conf and storage.conf."""

    home: Path

    @classmethod
    def configured(cls, home: Path | None = None) -> Podman:
        home = home or cache_root() / "podman"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        # runc: crun refuses this machine's hybrid cgroup layout. The ulimits: podman's defaults exceed the
        # machine's hard limits and setrlimit fails with EPERM.
        (home / "containers.conf").write_text(
            '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
            '[engine]\nruntime = "runc"\n'
        )
        (home / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{home / "storage"}"\nrunroot = "{home / "run"}"\n'
        )
        return cls(home)

    @property
    def env(self) -> dict[str, str]:
        # TMPDIR is where buildah keeps `RUN --mount=type=cache` folders: the pip cache stays with the rest.
        return {**os.environ, "CONTAINERS_CONF": str(self.home / "containers.conf"),
                "CONTAINERS_STORAGE_CONF": str(self.home / "storage.conf"), "TMPDIR": str(self.home / "tmp")}

    def run(self, *args: str, check: bool = True, timeout: float = 3600, env: dict[str, str] | None = None,
            **kwargs) -> subprocess.CompletedProcess:
        """`env`: variables added to podman's environment (what `--env NAME` hands to a container)."""
        return subprocess.run(["podman", *args], env={**self.env, **(env or {})}, check=check, timeout=timeout,
                              text=True, capture_output=kwargs.pop("capture_output", True), **kwargs)

    def image_exists(self, tag: str) -> bool:
        return self.run("image", "exists", tag, check=False).returncode == 0

    def popen(self, *args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(["podman", *args], env={**self.env, **(env or {})}, **kwargs)


def _host_files_for_base() -> list[Path]:
    """Host files copied into the base: CA certificates this machine trusts, apt sources and pip config."""
    found = sorted(LOCAL_CA_DIR.rglob("*.crt")) if LOCAL_CA_DIR.is_dir() else []
    for path in map(Path, APT_FILES):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(path)
    return found + [p for p in PIP_CONFIG_FILES if p.is_file()]


def base_tag() -> str:
    digest = hashlib.sha256(f"{SUITE} {BASE_PACKAGES} {apt_mirror()}\n{pip_config()}".encode())
    for path in _host_files_for_base():
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return f"localhost/ugc-swap-base:{SUITE}-{digest.hexdigest()[:12]}"


def apt_mirror() -> str:
    """The first Debian mirror of this machine's apt sources (deb822 or one-line format)."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and words[1].rstrip("/").endswith("/debian"):
                return words[1]
            if words[:1] == ["deb"] and words[-2:-1] and SUITE in words:
                return next(w for w in words[1:] if "://" in w)
    raise RuntimeError("no Debian mirror found in /etc/apt/sources.list*")


def pip_config() -> str:
    """The machine's pip settings merged into one /etc/pip.conf for the base (later files win, as in pip)."""
    merged = configparser.ConfigParser()
    merged.read([p for p in PIP_CONFIG_FILES if p.is_file()])
    text = io.StringIO()
    merged.write(text)
    return text.getvalue()


def local_pip_stores() -> list[Path]:
    """Local folders pip's configuration takes packages from (find-links, file:// indexes): mounted read-only
    into builds, so the image's set-up installs from the same wheels as this machine's."""
    stores: list[Path] = []
    config = configparser.ConfigParser()
    config.read_string(pip_config())
    values = [v for section in config.sections() for k, v in config[section].items()
              if k in ("find-links", "index-url", "extra-index-url")]
    for value in values:
        for word in value.split():
            path = Path(word.removeprefix("file://"))
            if word.startswith(("/", "file:///")) and path.exists():
                top = Path(*path.parts[:3])  # /opt/pypi for /opt/pypi/simple: its links point at ../../files
                if top not in stores:
                    stores.append(top)
    return stores


def ensure_base_image(podman: Podman) -> str:
    """Import the debootstrap base under its recipe tag unless podman already has it; returns the tag."""
    tag = base_tag()
    if podman.image_exists(tag):
        return tag
    with tempfile.TemporaryDirectory(dir=podman.home / "tmp") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", SUITE, str(rootfs),
                        apt_mirror()], check=True, capture_output=True, timeout=1200)
        (rootfs / "etc" / "apt" / "sources.list").unlink()  # the machine's own sources replace debootstrap's
        for path in _host_files_for_base():
            target = rootfs / path.relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        # Both pip config files go into /etc/pip.conf, which pip reads for every user.
        (rootfs / "etc" / "pip.conf").write_text(pip_config())
        subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, capture_output=True)
        tarball = Path(work) / "base.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        changes = [f"ENV {name}={CERT_BUNDLE}" for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
        podman.run("import", *[arg for change in changes for arg in ("--change", change)], str(tarball), tag)
    _remove_other_bases(podman, tag)
    return tag


def _remove_other_bases(podman: Podman, keep: str) -> None:
    """Bases of older recipes (and the images built on them) would otherwise pile up in the cache."""
    repository = keep.rsplit(":", 1)[0]
    listed = podman.run("images", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout.split()
    for old in set(listed) - {keep}:
        podman.run("rmi", "--force", old, check=False)


class BuildError(RuntimeError):
    pass


def build_image(podman: Podman, context: Path, tag: str, base: str, timeout_s: float = 3600,
                build_args: dict[str, str] | None = None) -> str:
    """`podman build` of the Dockerfile on `base`; returns the build log (BuildError with its tail on failure)."""
    mounts = [arg for store in local_pip_stores() for arg in ("--volume", f"{store}:{store}:ro")]
    mounts += [arg for name, value in (build_args or {}).items() for arg in ("--build-arg", f"{name}={value}")]
    # Docker format: the OCI format drops SHELL (and with it pipefail); Runpod and Docker Hub take either.
    done = podman.run("build", "--format", "docker", "--network", "host", "--build-arg", f"BASE={base}",
                      *mounts, "--tag", tag, str(context), check=False, timeout=timeout_s,
                      stderr=subprocess.STDOUT, capture_output=False, stdout=subprocess.PIPE)
    if done.returncode != 0:
        raise BuildError(f"podman build failed ({done.returncode}):\n{done.stdout[-6000:]}")
    return done.stdout


def copy_build_context(repo: Path, target: Path) -> Path:
    """The files .dockerignore lets into the build (its `!path` lines), copied: a context a test may add to."""
    for line in (repo / ".dockerignore").read_text().splitlines():
        if line.startswith("!"):
            source = repo / line[1:].rstrip("/")
            if source.is_dir():
                shutil.copytree(source, target / source.relative_to(repo),
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                (target / source.relative_to(repo)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / source.relative_to(repo))
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy2(repo / name, target / name)
    return target
