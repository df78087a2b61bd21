"""The model files a worker's engines need, and where its ComfyUI finds them.

A worker offers the engines of `UGC_SWAP_ENGINES`. At start it checks every file their graphs load (read from the
graphs themselves, so an artist's own export via UGC_SWAP_WORKFLOW_<ENGINE> is checked too) and refuses to start
with one message naming each missing, truncated or corrupt file: a deployment without its models fails at boot,
not on a customer's job. Files listed in workflows/models.json are checked against its size (and sha256 when
asked: hashing ~28 GB takes minutes, so by default the image build and `ugc-swap models verify` do that); other
files (a custom graph's) must exist. The `fast` engine loads no model file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from .model_manifest import (
    LOADER_INPUTS,
    ModelFile,
    ModelManifestError,
    files_loaded_by,
    load_manifest,
    problems_with,
)
from .workflow import load_api_workflow, workflow_for_engine

EXTRA_PATHS_NAME = "ugc_swap_models"


def files_needed(engines: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(ComfyUI folder, file name) of every model the engines' graphs load, in a stable order."""
    needed: set[tuple[str, str]] = set()
    for engine in engines:
        needed |= files_loaded_by(load_api_workflow(workflow_for_engine(engine, environ)))
    return sorted(needed)


def check_engine_models(engines: Iterable[str], models_dirs: list[Path], environ: Mapping[str, str],
                        check_hash: bool = False) -> None:
    """Raise ModelManifestError naming every file the engines need that no folder of `models_dirs` holds whole."""
    engines = list(engines)
    manifest = {(m.folder, m.name): m for m in load_manifest()}
    problems = []
    for folder, name in files_needed(engines, environ):
        model = manifest.get((folder, name)) or ModelFile(name, folder, "the custom workflow's source", -1, "")
        if all(_problems(model, models_dir, check_hash) for models_dir in models_dirs):
            # Report against the first folder: that is where a missing file is expected (UGC_SWAP_MODELS_DIR).
            problems += _problems(model, models_dirs[0], check_hash)
    if problems:
        folders = ", ".join(str(d) for d in models_dirs)
        raise ModelManifestError(f"the {'/'.join(engines)} engine(s) need model files that are not ready in "
                                 f"{folders}: " + "; ".join(problems) + ". Put them on the models volume "
                                 "(`ugc-swap models download --models-dir DIR`) or leave the engine out of "
                                 "UGC_SWAP_ENGINES.")


def _problems(model: ModelFile, models_dir: Path, check_hash: bool) -> list[str]:
    if model.size < 0:  # not in the manifest: nothing to compare but its presence
        path = model.path(models_dir)
        return [] if path.is_file() else [f"{model.folder}/{model.name} is missing ({model.url})"]
    return problems_with(models_dir, [model], check_hash)


def write_extra_model_paths(models_dir: Path, config_path: Path) -> Path:
    """A ComfyUI extra_model_paths file that adds `models_dir`'s loader folders (JSON is valid YAML)."""
    folders = sorted({folder for _, folder in LOADER_INPUTS.values()})
    entry = {"base_path": str(models_dir), **{folder: folder for folder in folders}}
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps({EXTRA_PATHS_NAME: entry}, indent=2) + "\n")
    return config_path
