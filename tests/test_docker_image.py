"""The Dockerfile, built and run for real: podman on a local debootstrap base (no registry is reachable here).

One Make.com-shaped job goes through the container as a Runpod worker (the SDK's local API) and once in Pods mode,
against the same loopback S3, webhook receiver and Airtable stand-in as the worker tests, configured only through
`--env`. Also: a worker whose engine lacks a model exits naming it, no secret is in any layer, and hadolint passes.
The base image, podman's storage and layer cache live under $UGC_SWAP_CACHE/podman, so a fresh clone with the same
pins rebuilds only the small code layers (the ~7 GB environment layer comes from the cache).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from driver.model_manifest import load_manifest

from .container_worker import (
    container_launcher,
    podman_run_args,
    secrets_in_metadata,
    strings_in_saved_image,
)
from .podman_env import Podman, build_image, ensure_base_image
from .worker_check import assert_complete_everywhere
from .worker_stack import PODS_API_KEY, REPO, SECRETS, running_worker

IMAGE = "localhost/ugc-swap:test"
RUNPOD_ARGS = ["--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port", "{port}"]
PODS_ARGS = ["--host", "127.0.0.1", "--port", "{port}"]
# The first build on a fresh machine (debootstrap base + the ~7 GB environment layer) takes ~10 min on 2 cores,
# more than the suite's 600 s per test; later runs take seconds from the layer cache.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def podman() -> Podman:
    return Podman.configured()


@pytest.fixture(scope="module")
def image(podman) -> str:
    started = time.monotonic()
    base = ensure_base_image(podman)
    build_image(podman, REPO, IMAGE, base)
    podman.run("image", "prune", "--force")  # earlier builds' code layers; the environment layer stays cached
    print(f"\nbase + image build: {time.monotonic() - started:.1f} s")
    return IMAGE


def test_hadolint_passes_the_dockerfile():
    hadolint = Path(os.environ.get("UGC_SWAP_TEST_TOOLS", "")) / "hadolint"
    assert hadolint.is_file(), f"hadolint is missing at {hadolint}: bin/test-tools installs it (run bin/test)"
    linted = subprocess.run([str(hadolint), "Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_job_through_the_image_as_a_runpod_worker(podman, image, s3_endpoint, tmp_path, sample_video, avatar_png):
    with running_worker(s3_endpoint, tmp_path, RUNPOD_ARGS, "/", launch=container_launcher(podman, image)) as (
            stack, api):
        request = stack.make_request(sample_video, avatar_png, "container-runpod")
        answer = requests.post(f"{api}/runsync", json=request, timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=2, duration_s=30.0)


def test_a_job_through_the_image_in_pods_mode(podman, image, s3_endpoint, tmp_path, sample_video, avatar_png):
    with running_worker(s3_endpoint, tmp_path, PODS_ARGS, "/health", launch=container_launcher(podman, image),
                        UGC_SWAP_MODE="pods") as (stack, api):
        request = stack.make_request(sample_video, avatar_png, "container-pods", segments="0-3 swap, 3-end keep")
        auth = {"Authorization": f"Bearer {PODS_API_KEY}"}
        answer = requests.post(f"{api}/runsync?wait=600000", json=request, headers=auth, timeout=900).json()
    assert answer["status"] == "COMPLETED", answer
    assert_complete_everywhere(stack, request, answer["output"], expected_segments=1, duration_s=30.0)


def test_a_missing_model_stops_the_container_naming_it(podman, image, tmp_path):
    """Five of the six Wan files on the 'network volume' (sparse, right sizes): the worker names the sixth."""
    models = load_manifest()
    absent = models[0]
    for model in models[1:]:
        path = model.path(tmp_path / "volume")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.truncate(model.size)
    config = {"UGC_SWAP_S3_BUCKET": "unused", "UGC_SWAP_COMFYUI_DEVICE": "cpu",  # engines: the default, all
              "UGC_SWAP_C2PA": "off"}
    args = podman_run_args(f"ugc-swap-test-models-{os.getpid()}", image, config,
                           [(tmp_path / "volume", "/runpod-volume/models")])
    started = time.monotonic()
    done = podman.run(*args, check=False, timeout=300, env=config)
    assert done.returncode != 0
    assert f"{absent.folder}/{absent.name} is missing" in done.stderr, done.stderr[-3000:]
    for model in models[1:]:
        assert model.name not in done.stderr, f"{model.name} is on the volume but reported"
    assert time.monotonic() - started < 60, "the model check must fail the worker before ComfyUI starts"


def test_models_mode_downloads_into_the_volume_and_names_a_failure(podman, image, tmp_path):
    """UGC_SWAP_MODE=models fills the mounted volume from the manifest; no model host is reachable here, so it must
    fail on the first file, say which, and leave no partial file behind."""
    first = load_manifest()[0]
    (tmp_path / "volume").mkdir()
    config = {"UGC_SWAP_MODE": "models"}
    args = podman_run_args(f"ugc-swap-test-download-{os.getpid()}", image, config,
                           [(tmp_path / "volume", "/runpod-volume/models")])
    done = podman.run(*args, check=False, timeout=300, env=config)
    assert done.returncode != 0
    assert f"download of {first.folder}/{first.name} failed" in done.stderr, done.stderr[-3000:]
    assert [p for p in (tmp_path / "volume").rglob("*") if p.is_file()] == []


def test_no_secret_is_baked_into_any_layer(podman, image):
    assert secrets_in_metadata(podman, image, SECRETS) == []
    # A string from the worker's own code proves the scan reads every layer's files, not only metadata.
    marker = b"a broken deployment says what is wrong once, at boot"
    assert marker in (REPO / "runpod_handler.py").read_bytes()
    needles = [marker, *(secret.encode() for secret in SECRETS)]
    assert strings_in_saved_image(podman, image, needles) == {marker}
