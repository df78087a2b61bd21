"""The node pack installed into an artist's own ComfyUI the way ComfyUI-Manager does it (tests/pack_env.py):
a fresh environment with ComfyUI's own requirements, the pack's requirements.txt installed line by line as the
Manager runs it (and then `pip install -r` of the whole file, which must find nothing to do), the pack copied into
custom_nodes/ under its registry name, ComfyUI started from that environment, and the fast graph run on samples."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import cv2
import pytest
import requests
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video

from driver.comfy_client import ComfyClient
from driver.comfy_server import LocalComfyUI, comfyui_dir_from_env
from driver.swap_job import SwapJob, run_swap_job
from tests.pack_env import (
    NUMPY1_SETUP,
    PACK_DIR,
    PACK_REQUIREMENTS,
    REPO,
    comfyui_setup,
    declared_requirements,
    pack_env,
)

OPENCV_DISTRIBUTIONS = {"opencv-python", "opencv-python-headless", "opencv-contrib-python",
                        "opencv-contrib-python-headless"}
# An artist's environment must keep these exactly as ComfyUI's own install left them.
NEVER_MOVED = ("numpy", "torch", "torchvision", "torchaudio")


@pytest.fixture(scope="module")
def env():
    return pack_env(comfyui_setup(comfyui_dir_from_env()))


def _requirements(path: Path) -> list[Requirement]:
    return [requirement for requirement, _ in declared_requirements(path.read_text())]


def _assert_nothing_moved_down(before: dict[str, str], after: dict[str, str], kept: tuple[str, ...]) -> None:
    downgraded = {name: (before[name], after[name]) for name in before
                  if name in after and Version(after[name]) < Version(before[name])}
    removed = sorted(set(before) - set(after))
    assert not downgraded and not removed, (downgraded, removed)
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}


def test_installing_the_pack_moves_no_package_down_and_leaves_numpy_and_torch_alone(env):
    before, after = env.before_pack, env.after_pack
    _assert_nothing_moved_down(before, after, NEVER_MOVED)
    assert Version(after["numpy"]).major >= 2, "ComfyUI's own install resolves numpy 2; the pack must live with it"
    added = {name: after[name] for name in sorted(set(after) - set(before))}
    print("the pack added:", added)
    assert {canonicalize_name(r.name) for r in _requirements(PACK_REQUIREMENTS)} <= set(after)


def test_one_opencv_distribution_owns_cv2(env):
    installed = OPENCV_DISTRIBUTIONS & set(env.after_pack)
    assert installed == {"opencv-contrib-python"}, installed
    script = "import importlib.metadata as m; print(sorted(set(m.packages_distributions()['cv2'])))"
    owners = subprocess.run([str(env.python), "-c", script],
                            capture_output=True, text=True, check=True).stdout
    assert owners.strip() == "['opencv-contrib-python']", owners


def test_pip_check_is_clean_and_installing_again_changes_nothing(env):
    check = env.pip("check")
    assert check.returncode == 0, check.stdout + check.stderr
    # The whole file at once (the by-hand install, or an update) must find everything the lines installed enough.
    again = env.pip("install", "-r", str(PACK_REQUIREMENTS))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Successfully installed" not in again.stdout, again.stdout[-2000:]


def _module_file(package_dir: Path, dotted: str) -> Path | None:
    base = package_dir.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_by_nodes(pack: Path = PACK_DIR) -> set[str]:
    """Top-level names of everything outside the pack that the nodes import, following the pack's own modules
    from nodes/ (imports inside functions included: they run when the node does)."""
    pending = [p for p in (pack / "nodes").glob("*.py")] + [pack / "__init__.py"]
    seen, outside = set(), set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        package = path.parent.relative_to(pack).parts
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                outside.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                outside.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                here = package[: len(package) - (node.level - 1)]
                stem = ".".join([*here, *(node.module.split(".") if node.module else [])])
                targets = [stem] + [f"{stem}.{alias.name}" if stem else alias.name for alias in node.names]
                pending.extend(f for t in targets if t and (f := _module_file(pack, t)) is not None)
    return outside - {"__future__"}


# {top-level module: [distributions]} from what each distribution installed: top_level.txt can be incomplete
# (dlib-bin's names only its extension module, not the dlib package the nodes import).
_OWNERS_SCRIPT = """
import importlib.metadata as m, json, collections
owners = collections.defaultdict(set)
for d in m.distributions():
    for f in d.files or []:
        top = f.parts[0].split(".")[0]
        if not f.parts[0].endswith((".dist-info", ".data")) and top not in ("..", "__pycache__"):
            owners[top].add(d.metadata["Name"])
print(json.dumps({k: sorted(v) for k, v in owners.items()}))
"""


def test_every_package_the_nodes_import_is_declared(env):
    comfyui_dir = comfyui_dir_from_env()
    ships_with_comfyui = {p.stem for p in comfyui_dir.iterdir() if p.suffix == ".py" or p.is_dir()}
    third_party = {m for m in imported_by_nodes() if m not in sys.stdlib_module_names and m not in ships_with_comfyui}
    owners = json.loads(subprocess.run([str(env.python), "-c", _OWNERS_SCRIPT], capture_output=True, text=True,
                                       check=True).stdout)
    declared = {canonicalize_name(r.name) for r in _requirements(PACK_REQUIREMENTS)}
    comfyui_declared = {canonicalize_name(r.name) for r in _requirements(comfyui_dir / "requirements.txt")}
    undeclared = {}
    for module in sorted(third_party):
        distributions = {canonicalize_name(d) for d in owners.get(module, [])}
        if not distributions & (declared | comfyui_declared):
            undeclared[module] = sorted(distributions) or "not installed"
    assert {"mediapipe", "cv2", "dlib", "scenedetect", "av", "torch"} <= third_party  # the scan sees the nodes
    assert not undeclared, f"imported by the nodes but declared by neither the pack nor ComfyUI: {undeclared}"


def _pack_node_ids() -> set[str]:
    return {m for path in (PACK_DIR / "nodes").glob("*.py") for m in re.findall(r'node_id="(\w+)"', path.read_text())}


def _run_sample_job(url: str, folder: Path, name: str) -> dict:
    """The fast graph on a 4 s sample (640×360, the astronaut moving, Grace Hopper as the avatar): its report."""
    video, avatar = folder / "demo.mp4", folder / "avatar.png"
    if not video.exists():
        write_sample_video(video, SampleVideoSpec(width=640, height=360, duration_s=4.0))
        cv2.imwrite(str(avatar), cv2.cvtColor(sample_face("grace_hopper"), cv2.COLOR_RGB2BGR))
    outcome = run_swap_job(ComfyClient(url), SwapJob(video, avatar, "0-2 swap"), folder / name, timeout_s=600)
    assert outcome.output_path.stat().st_size > 0
    [segment] = outcome.quality["identity"]["segments"]
    return {"summary": outcome.summary, "identity": segment}


def test_comfyui_in_that_environment_loads_the_copied_pack_and_runs_the_fast_graph(env, comfyui, tmp_path):
    base = tmp_path / "artist_comfyui"
    # Under the registry's name, as the Manager unpacks it: nothing may depend on the folder being `ugc_swap`.
    registry_name = tomllib.loads((PACK_DIR / "pyproject.toml").read_text())["project"]["name"]
    shutil.copytree(PACK_DIR, base / "custom_nodes" / registry_name, ignore=shutil.ignore_patterns("__pycache__"))
    # Nothing of this project's environment may help: its interpreter, packages, PYTHONPATH or ffmpeg override.
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "UGC_SWAP_FFMPEG"}}
    environ["PATH"] = os.pathsep.join([str(env.python.parent), "/usr/bin", "/bin"])
    with LocalComfyUI(base, python=str(env.python), link_pack=False, environ=environ) as server:
        listed = set(ComfyClient(server.url).object_info())
        log = server.log_tail(200_000)
        assert _pack_node_ids() <= listed, (sorted(_pack_node_ids() - listed), log[-3000:])
        assert "IMPORT FAILED" not in log and "Cannot import" not in log, log[-3000:]
        # The saved graphs are in the artist's template browser, under the pack's folder.
        templates = requests.get(f"{server.url}/workflow_templates", timeout=30).json()
        assert sorted(templates.get(registry_name, [])) == ["ugc_swap_fast", "ugc_swap_wan"], templates
        served = requests.get(f"{server.url}/api/workflow_templates/{registry_name}/ugc_swap_fast.json", timeout=30)
        assert served.json() == json.loads((REPO / "workflows" / "ugc_swap_fast.json").read_text())
        artist = _run_sample_job(server.url, tmp_path, "artist")
    # The same job on the project's own environment (pinned lock, older OpenCV): the artist gets the same swap.
    project = _run_sample_job(comfyui.url, tmp_path, "project")
    print("artist's environment:", artist, "\nproject's environment:", project)
    assert artist["summary"]["frame_count"] == project["summary"]["frame_count"] == 120
    assert artist["summary"]["frames_with_face"] == project["summary"]["frames_with_face"] >= 55
    for key in ("to_avatar", "to_filmed"):
        assert abs(artist["identity"][key] - project["identity"][key]) <= 0.02, (key, artist, project)


_FACE_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.sample_media import sample_face
with FaceAnalyzer() as analyzer:
    [face] = analyzer.detect(sample_face("grace_hopper"))
print(json.dumps({"numpy": numpy.__version__, "box": [float(v) for v in face.box], "score": float(face.score)}))
"""


def test_a_numpy_1_environment_keeps_numpy_1_with_the_readmes_constraint_and_finds_the_same_faces():
    """README's recipe for an environment another pack holds on numpy 1: PIP_CONSTRAINT='numpy<2'."""
    env = pack_env(NUMPY1_SETUP)
    _assert_nothing_moved_down(env.before_pack, env.after_pack, ("numpy",))
    assert env.after_pack["numpy"] == "1.26.4"
    check = env.pip("check")
    assert check.returncode == 0, check.stdout + check.stderr
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    there = subprocess.run([str(env.python), "-c", _FACE_SCRIPT, str(PACK_DIR.parent)], capture_output=True,
                           text=True, timeout=300, env=environ, check=False)
    assert there.returncode == 0, there.stderr[-3000:]
    found = json.loads(there.stdout.strip().splitlines()[-1])
    here = json.loads(subprocess.run([sys.executable, "-c", _FACE_SCRIPT, str(PACK_DIR.parent)], capture_output=True,
                                     text=True, timeout=300, check=True).stdout.strip().splitlines()[-1])
    print("numpy 1 environment:", found, "\nproject environment:", here)
    assert found["numpy"] == "1.26.4" and here["numpy"].startswith("2.")
    assert found["box"] == pytest.approx(here["box"], abs=0.5) and found["score"] == pytest.approx(here["score"], abs=1e-3)
