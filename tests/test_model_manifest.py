"""The model manifest: it covers every file the saved graphs load, and verify/download catch every bad file."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from driver import workflow as wf
from driver.model_manifest import (
    ModelFile,
    ModelManifestError,
    download,
    files_loaded_by,
    load_manifest,
    problems_with,
    sha256_of,
    verify,
)

from .file_server import FileServer, Route
from .worker_stack import REPO


def test_manifest_covers_every_model_the_workflows_load():
    listed = {(m.folder, m.name) for m in load_manifest()}
    for path in wf.saved_workflows().values():
        assert files_loaded_by(wf.load_api_workflow(path)) <= listed, path.name
    for model in load_manifest():
        assert model.url.startswith("https://huggingface.co/") and model.url.endswith("/" + model.name)
        assert model.size > 1_000_000 and re.fullmatch(r"[0-9a-f]{64}", model.sha256), model.name


@pytest.fixture
def local_models(tmp_path):
    files = []
    for folder, name, payload in (("vae", "a.safetensors", b"a" * 5000), ("loras", "b.safetensors", b"b" * 7000)):
        path = tmp_path / "source" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(payload)
        files.append((ModelFile(name, folder, f"https://example.invalid/{name}", len(payload), sha256_of(path)), path))
    return files


def test_verify_names_missing_truncated_and_corrupt_files(tmp_path, local_models):
    models_dir = tmp_path / "models"
    manifest = [m for m, _ in local_models]
    with pytest.raises(ModelManifestError, match="vae/a.safetensors is missing.*loras/b.safetensors is missing"):
        verify(models_dir, manifest)
    for model, source in local_models:
        model.path(models_dir).parent.mkdir(parents=True, exist_ok=True)
        model.path(models_dir).write_bytes(source.read_bytes())
    verify(models_dir, manifest)
    first, second = (m.path(models_dir) for m in manifest)
    first.write_bytes(first.read_bytes()[:-10])
    second.write_bytes(b"x" * second.stat().st_size)
    problems = problems_with(models_dir, manifest)
    assert "vae/a.safetensors has 4990 bytes, expected 5000" in problems[0]
    assert "loras/b.safetensors has the wrong sha256" in problems[1]
    assert problems_with(models_dir, manifest, check_hash=False) == problems[:1]


def test_download_fetches_checks_and_never_leaves_a_bad_file(tmp_path, local_models):
    models_dir = tmp_path / "models"
    with FileServer() as server:
        manifest = [ModelFile(m.name, m.folder, server.serve_file(f"/{m.name}", source), m.size, m.sha256)
                    for m, source in local_models]
        assert len(download(models_dir, manifest)) == 2 and download(models_dir, manifest) == []
        verify(models_dir, manifest)
        corrupt = ModelFile("c.safetensors", "vae", server.url("/c.safetensors"), 5000, manifest[0].sha256)
        server.routes["/c.safetensors"] = Route(body=b"z" * 5000)
        with pytest.raises(ModelManifestError, match="vae/c.safetensors does not match the manifest"):
            download(models_dir, [corrupt])
        assert sorted(p.name for p in (models_dir / "vae").iterdir()) == ["a.safetensors"]


def test_the_cli_names_what_is_missing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "driver", "models", "verify", "--quick", "--models-dir",
                             str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "[models_missing]" in result.stderr and "diffusion_models/Wan2_2-Animate-14B" in result.stderr
