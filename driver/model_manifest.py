"""The model files a workflow loads: where each goes, where it comes from, and how to know it arrived whole.

`workflows/models.json` lists every file the saved graphs load (ComfyUI folder, URL, size, sha256). `verify`
names each missing, truncated or corrupt file; `download` fetches what is missing through a .partial file that
is renamed only after size and sha256 match, so an interrupted or corrupted download never looks finished. The
Docker build runs both; a worker runs `verify` at start.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ugc_swap.core.errors import UgcSwapError

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "workflows" / "models.json"
# Loader nodes and the input naming the file they load, with the ComfyUI folder that input reads from.
LOADER_INPUTS = {
    "UNETLoader": ("unet_name", "diffusion_models"),
    "LoraLoaderModelOnly": ("lora_name", "loras"),
    "LoraLoader": ("lora_name", "loras"),
    "CLIPLoader": ("clip_name", "text_encoders"),
    "CLIPVisionLoader": ("clip_name", "clip_vision"),
    "VAELoader": ("vae_name", "vae"),
}
_CHUNK = 8 * 1024**2


class ModelManifestError(UgcSwapError):
    code = "models_missing"


@dataclass(frozen=True)
class ModelFile:
    name: str
    folder: str
    url: str
    size: int
    sha256: str

    def path(self, models_dir: Path) -> Path:
        return models_dir / self.folder / self.name


def load_manifest(path: Path = MANIFEST_PATH) -> list[ModelFile]:
    entries = json.loads(Path(path).read_text())["models"]
    return [ModelFile(e["name"], e["folder"], e["url"], int(e["size"]), e["sha256"].lower()) for e in entries]


def files_loaded_by(graph: dict[str, Any]) -> set[tuple[str, str]]:
    """(folder, file name) of every model an API-format graph's loader nodes load."""
    found = set()
    for node in graph.values():
        if node["class_type"] in LOADER_INPUTS:
            input_name, folder = LOADER_INPUTS[node["class_type"]]
            found.add((folder, node["inputs"][input_name]))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def problems_with(models_dir: Path, files: Iterable[ModelFile], check_hash: bool = True) -> list[str]:
    """One line per file that is missing, of the wrong size, or (with check_hash) of the wrong content."""
    problems = []
    for model in files:
        path = model.path(models_dir)
        if not path.is_file():
            problems.append(f"{model.folder}/{model.name} is missing (get it from {model.url})")
        elif path.stat().st_size != model.size:
            problems.append(f"{model.folder}/{model.name} has {path.stat().st_size} bytes, expected {model.size} "
                            "(truncated or a different file)")
        elif check_hash and sha256_of(path) != model.sha256:
            problems.append(f"{model.folder}/{model.name} has the wrong sha256 (corrupt or a different file)")
    return problems


def verify(models_dir: Path, files: Iterable[ModelFile], check_hash: bool = True) -> None:
    problems = problems_with(models_dir, files, check_hash)
    if problems:
        raise ModelManifestError(f"models under {models_dir} are not ready: " + "; ".join(problems))


def download(models_dir: Path, files: Iterable[ModelFile], timeout_s: float = 60.0,
             headers: dict[str, str] | None = None) -> list[Path]:
    """Fetch every file not already present and whole; returns what was downloaded."""
    fetched = []
    for model in files:
        if not problems_with(models_dir, [model]):
            continue
        target = model.path(models_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        try:
            with requests.get(model.url, stream=True, timeout=timeout_s, headers=headers or {}) as response:
                response.raise_for_status()
                with open(partial, "wb") as handle:
                    for chunk in response.iter_content(_CHUNK):
                        digest.update(chunk)
                        handle.write(chunk)
            size = partial.stat().st_size
            if size != model.size or digest.hexdigest() != model.sha256:
                raise ModelManifestError(f"download of {model.folder}/{model.name} does not match the manifest "
                                         f"({size} bytes, sha256 {digest.hexdigest()[:12]}…)")
            partial.replace(target)
        except requests.RequestException as exc:
            raise ModelManifestError(f"download of {model.folder}/{model.name} failed: {type(exc).__name__}") from None
        finally:
            partial.unlink(missing_ok=True)
        fetched.append(target)
    return fetched


def main(argv: list[str]) -> int:
    """`python -m driver.model_manifest MANIFEST MODELS_DIR`: the image build's model step. It imports only this
    module, so the layer holding ~28 GB of models does not depend on (and is not rebuilt for) the rest of the code."""
    manifest, models_dir = Path(argv[0]), Path(argv[1])
    try:
        for path in download(models_dir, load_manifest(manifest)):
            print(f"downloaded {path} (size and sha256 match {manifest.name})")
    except UgcSwapError as error:
        print(f"model download failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
