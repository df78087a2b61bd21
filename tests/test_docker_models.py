"""`--build-arg MODELS=baked`: the image build downloads the manifest's models and fails on a broken download.

The real manifest's 28 GB cannot be fetched here, so the build gets a manifest of two small files served on
loopback (`MODELS_MANIFEST`, in a copy of the build context); everything else is the real Dockerfile, and the
environment layer comes from the same cache as test_docker_image.py's build.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .file_server import FileServer
from .podman_env import BuildError, Podman, build_image, copy_build_context, ensure_base_image
from .worker_stack import REPO

MANIFEST_IN_CONTEXT = "workflows/models.baked-test.json"
# The first build on a fresh machine (debootstrap base + the ~7 GB environment layer) takes ~10 min on 2 cores,
# more than the suite's 600 s per test; later runs take seconds from the layer cache.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def podman() -> Podman:
    return Podman.configured()


@pytest.fixture
def model_files(tmp_path):
    """Two small files with their manifest entries, served over HTTP like Hugging Face serves the real ones."""
    payloads = {("vae", "tiny_vae.safetensors"): os.urandom(300_000), ("loras", "tiny_lora.safetensors"): b"L" * 4096}
    with FileServer() as server:
        entries = []
        for (folder, name), payload in payloads.items():
            path = tmp_path / "served" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(payload)
            entries.append({"name": name, "folder": folder, "url": server.serve_file(f"/models/{name}", path),
                            "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
        yield entries, payloads


@contextmanager
def baked_image(podman: Podman, tmp_path, entries: list[dict], tag: str) -> Iterator[str]:
    """The image built with MODELS=baked and a manifest of `entries`; removed afterwards (its models layer is
    unique to this run, nothing to cache)."""
    context = copy_build_context(REPO, tmp_path / "context")
    (context / MANIFEST_IN_CONTEXT).write_text(json.dumps({"models": entries}))
    try:
        build_image(podman, context, tag, ensure_base_image(podman),
                    build_args={"MODELS": "baked", "MODELS_MANIFEST": MANIFEST_IN_CONTEXT})
        yield tag
    finally:
        podman.run("rmi", "--force", tag, check=False)


def test_baked_models_are_downloaded_and_checked_into_the_image(podman, tmp_path, model_files):
    entries, payloads = model_files
    with baked_image(podman, tmp_path, entries, "localhost/ugc-swap:baked-test") as image:
        paths = [f"/runpod-volume/models/{folder}/{name}" for folder, name in payloads]
        listed = podman.run("run", "--rm", "--entrypoint", "sha256sum", image, *paths).stdout
    for (folder, name), payload in payloads.items():
        assert f"{hashlib.sha256(payload).hexdigest()}  /runpod-volume/models/{folder}/{name}" in listed


def test_a_corrupt_download_fails_the_build_naming_the_file(podman, tmp_path, model_files):
    entries, _ = model_files
    entries[1]["sha256"] = "0" * 64  # what a changed or tampered file upstream looks like
    with pytest.raises(BuildError) as failed:
        with baked_image(podman, tmp_path, entries, "localhost/ugc-swap:baked-broken"):
            pass
    log = str(failed.value)
    assert "download of loras/tiny_lora.safetensors does not match the manifest" in log, log[-2000:]


def test_an_unknown_models_setting_fails_the_build(podman, tmp_path):
    context = copy_build_context(REPO, tmp_path / "context")
    with pytest.raises(BuildError, match="MODELS must be volume or baked, got 'bakd'"):
        build_image(podman, context, "localhost/ugc-swap:bad-setting", ensure_base_image(podman),
                    build_args={"MODELS": "bakd"})
