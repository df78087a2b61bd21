"""A worker checks the models its engines need before it starts, and its ComfyUI finds them in UGC_SWAP_MODELS_DIR.

Model files of the real sizes are made sparse (no disk used): the start-up check compares sizes, and the sha256
pass is the image build's and `ugc-swap models verify`'s job (test_model_manifest.py covers it).
"""

from __future__ import annotations

import json
import os

import pytest
import requests

from driver.config import ConfigError, load_config
from driver.engine_models import check_engine_models, files_needed, write_extra_model_paths
from driver.model_manifest import ModelManifestError, load_manifest
from driver.workflow import saved_workflow

WAN_FILES = sorted((m.folder, m.name) for m in load_manifest())


def _place_sparse(models_dir, folder, name, size):
    path = models_dir / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def test_fast_needs_no_model_and_wan_needs_the_six_manifest_files():
    assert files_needed(["fast"], {}) == []
    assert files_needed(["wan"], {}) == WAN_FILES and len(WAN_FILES) == 6
    assert files_needed(["fast", "wan"], {}) == WAN_FILES


def test_fast_only_worker_starts_without_any_model(tmp_path):
    check_engine_models(["fast"], [tmp_path / "empty"], {})


def test_every_missing_or_truncated_wan_file_is_named(tmp_path):
    models_dir = tmp_path / "volume"
    with pytest.raises(ModelManifestError) as missing:
        check_engine_models(["fast", "wan"], [models_dir], {})
    for folder, name in WAN_FILES:
        assert f"{folder}/{name} is missing" in missing.value.message
    assert "UGC_SWAP_ENGINES" in missing.value.message and missing.value.code == "models_missing"

    sizes = {(m.folder, m.name): m.size for m in load_manifest()}
    for (folder, name), size in sizes.items():
        _place_sparse(models_dir, folder, name, size)
    check_engine_models(["wan"], [models_dir], {})  # sizes match: ready

    _place_sparse(models_dir, "vae", "wan_2.1_vae.safetensors", 1000)
    with pytest.raises(ModelManifestError, match=r"vae/wan_2.1_vae.safetensors has 1000 bytes, expected 253815318"):
        check_engine_models(["wan"], [models_dir], {})


def test_a_file_in_any_models_folder_counts(tmp_path):
    volume, local = tmp_path / "volume", tmp_path / "comfyui_models"
    for model in load_manifest():
        _place_sparse(volume if model.folder == "loras" else local, model.folder, model.name, model.size)
    check_engine_models(["wan"], [volume, local], {})


def test_a_custom_workflow_is_checked_for_the_files_it_loads(tmp_path):
    graph = json.loads(saved_workflow("wan").read_text())
    loader = next(node for node in graph.values() if node["class_type"] == "VAELoader")
    loader["inputs"]["vae_name"] = "artist_vae.safetensors"
    custom = tmp_path / "artist_wan.api.json"
    custom.write_text(json.dumps(graph))
    environ = {"UGC_SWAP_WORKFLOW_WAN": str(custom)}
    with pytest.raises(ModelManifestError, match=r"vae/artist_vae.safetensors is missing"):
        check_engine_models(["wan"], [tmp_path / "models"], environ)


def test_engines_and_models_settings_are_read_and_validated(tmp_path):
    base = {"UGC_SWAP_S3_BUCKET": "b", "UGC_SWAP_C2PA": "off"}
    config = load_config({**base, "UGC_SWAP_ENGINES": " fast ", "UGC_SWAP_MODELS_DIR": str(tmp_path)})
    assert config.engines == ("fast",) and config.models_dir == tmp_path and not config.verify_model_hashes
    assert load_config(base).engines == ("fast", "wan") and load_config(base).models_dir is None
    with pytest.raises(ConfigError, match="UGC_SWAP_ENGINES must be a comma list of fast, wan, got 'fast,flux'"):
        load_config({**base, "UGC_SWAP_ENGINES": "fast,flux"})
    with pytest.raises(ConfigError, match="UGC_SWAP_VERIFY_MODEL_HASHES must be one of 0, 1"):
        load_config({**base, "UGC_SWAP_VERIFY_MODEL_HASHES": "yes"})


def test_comfyui_lists_models_from_the_extra_models_folder(tmp_path):
    """The real ComfyUI reads the extra_model_paths file the worker writes: a VAE on the 'volume' is listed."""
    from driver.comfy_server import LocalComfyUI

    if not os.environ.get("UGC_SWAP_COMFYUI_DIR"):
        pytest.fail("UGC_SWAP_COMFYUI_DIR is not set: run the suite through bin/test")
    volume = tmp_path / "volume"
    _place_sparse(volume, "vae", "on_the_volume.safetensors", 4096)
    _place_sparse(volume, "loras", "a_lora.safetensors", 4096)
    paths = write_extra_model_paths(volume, tmp_path / "base" / "extra_model_paths.yaml")
    with LocalComfyUI(tmp_path / "base", extra_args=("--extra-model-paths-config", str(paths))) as server:
        assert "on_the_volume.safetensors" in requests.get(f"{server.url}/models/vae", timeout=10).json()
        assert "a_lora.safetensors" in requests.get(f"{server.url}/models/loras", timeout=10).json()
