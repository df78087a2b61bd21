"""The node pack's registry metadata and requirements: what an artist's ComfyUI-Manager and the Comfy registry read.

The pack declares ranges (tests/test_pack_clean_install.py installs them into a fresh ComfyUI environment); here:
the registry metadata says the same as requirements.txt, the project's lock (what every other test ran with)
satisfies it, and comfy-cli's own `node validate` and `node pack` accept the pack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PIL import Image

from tests.pack_env import declared_requirements, read_freeze
from tools.pack_urls import ICON, pack_urls, urls_from_git, web_url, with_urls

REPO = Path(__file__).resolve().parent.parent
PACK = REPO / "custom_nodes" / "ugc_swap"
# ComfyUI's own install brings these; a pack that names them invites pip to move them for every other pack.
NEVER_DECLARED = {"torch", "torchvision", "torchaudio"}
OPENCV = {"opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"}


def test_registry_metadata_declares_what_requirements_txt_installs():
    meta = tomllib.loads((PACK / "pyproject.toml").read_text())
    assert {"PublisherId", "DisplayName", "Icon"} <= set(meta["tool"]["comfy"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["project"]["version"])
    required = [str(r) for r, _ in declared_requirements((PACK / "requirements.txt").read_text())]
    assert [str(Requirement(d)) for d in meta["project"]["dependencies"]] == required


def test_requirements_are_ranges_the_tested_lock_satisfies():
    locked = read_freeze(REPO / "requirements" / "lock.txt")
    requirements = declared_requirements((PACK / "requirements.txt").read_text())
    names = {canonicalize_name(r.name) for r, _ in requirements}
    assert not names & NEVER_DECLARED, "torch and friends belong to ComfyUI's own install"
    assert len(names & OPENCV) == 1, "one OpenCV distribution, or pip's install order decides which cv2 wins"
    for requirement, comment in requirements:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is declared but the suite never ran with it (not in requirements/lock.txt)"
        assert requirement.specifier.contains(locked[name]), f"the lock's {name} {locked[name]} breaks {requirement}"
        if any(spec.operator == "==" for spec in requirement.specifier):
            # An exact pin stops an artist's pip from moving; it needs its reason written beside it.
            assert requirement.name in comment or "Exactly" in comment, f"{requirement} is pinned with no reason"
    numpy = next(r for r, _ in requirements if r.name == "numpy")
    assert numpy.specifier.contains("2.4.6") and numpy.specifier.contains("1.26.4"), "numpy 1 and 2 both allowed"


def test_the_icon_is_a_square_png_of_registry_size():
    with Image.open(PACK / ICON) as icon:
        assert icon.format == "PNG" and icon.width == icon.height and 64 <= icon.width <= 400, icon.size


def _comfy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    tools = os.environ.get("UGC_SWAP_TEST_TOOLS")
    assert tools, "UGC_SWAP_TEST_TOOLS is not set: run the suite through bin/test (it installs comfy-cli)"
    return subprocess.run([str(Path(tools) / "comfy"), "--skip-prompt", "--no-enable-telemetry", "node", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}, check=False)


@pytest.fixture
def pack_repo(tmp_path) -> Path:
    """The pack alone in a git repository with an origin remote, as it would be published."""
    repo = tmp_path / "repo"
    shutil.copytree(PACK, repo / "custom_nodes" / "ugc_swap", ignore=shutil.ignore_patterns("__pycache__"))
    for args in (("init", "-q", "-b", "trunk"), ("remote", "add", "origin",
                                                 "https://deploy:s3cret-token@github.com/acme/ugc-swap.git")):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    return repo


def test_links_come_from_the_origin_remote_without_its_credentials(pack_repo):
    urls = urls_from_git(pack_repo, pack_repo / "custom_nodes" / "ugc_swap")
    assert urls == pack_urls("https://github.com/acme/ugc-swap", "trunk", "custom_nodes/ugc_swap")
    assert urls.icon == "https://raw.githubusercontent.com/acme/ugc-swap/trunk/custom_nodes/ugc_swap/icon.png"
    assert urls.documentation == "https://github.com/acme/ugc-swap#install-into-your-own-comfyui"
    assert web_url("git@gitlab.com:acme/ugc-swap.git\n") == "https://gitlab.com/acme/ugc-swap"
    assert web_url("ssh://git@github.com/acme/ugc-swap.git") == "https://github.com/acme/ugc-swap"
    with pytest.raises(ValueError, match="not a web address"):
        web_url("/srv/git/ugc-swap.git")
    pyproject = pack_repo / "custom_nodes" / "ugc_swap" / "pyproject.toml"
    original = pyproject.read_text()
    written = with_urls(original, urls)
    assert "s3cret" not in written and with_urls(written, urls) == written  # run twice, same file
    meta, before = tomllib.loads(written), tomllib.loads(original)
    assert meta["project"]["urls"]["Bug Tracker"] == "https://github.com/acme/ugc-swap/issues"
    assert {k: v for k, v in meta["project"].items() if k != "urls"} == \
        {k: v for k, v in before["project"].items() if k != "urls"}
    subprocess.run(["git", "-C", str(pack_repo), "remote", "remove", "origin"], check=True)
    assert urls_from_git(pack_repo, pack_repo / "custom_nodes" / "ugc_swap") is None


def test_comfy_cli_validates_and_packs_the_pack(pack_repo):
    pack = pack_repo / "custom_nodes" / "ugc_swap"
    pyproject = pack / "pyproject.toml"
    pyproject.write_text(with_urls(pyproject.read_text(), urls_from_git(pack_repo, pack)))
    validated = _comfy("validate", cwd=pack)
    report = validated.stdout + validated.stderr
    assert validated.returncode == 0 and "All validation checks passed" in report, report
    assert "Security warnings" not in report and "Error" not in report, report
    subprocess.run(["git", "-C", str(pack_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(pack_repo), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "pack"],
                   check=True)
    packed = _comfy("pack", cwd=pack)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    with zipfile.ZipFile(pack / "node.zip") as archive:
        names = set(archive.namelist())
        # The saved graphs travel with the pack (ComfyUI lists example_workflows/ in its template browser): as
        # files, not as the links the repository keeps to workflows/.
        templates = {n: json.loads(archive.read(n)) for n in names if n.startswith("example_workflows/")}
    assert {"__init__.py", "requirements.txt", "pyproject.toml", ICON, "nodes/face_replace_node.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")], names
    assert templates == {f"example_workflows/{path.name}": json.loads(path.read_text())
                         for path in (REPO / "workflows").glob("ugc_swap_*.json") if ".api." not in path.name}
