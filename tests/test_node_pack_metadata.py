"""The node pack's registry metadata, its requirements.txt and the project's lock name the same pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACK = REPO / "custom_nodes" / "ugc_swap"


def _pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[re.sub(r"[-_.]+", "-", name.lower())] = version.strip()
    return found


def test_registry_metadata_matches_requirements_and_lock():
    meta = tomllib.loads((PACK / "pyproject.toml").read_text())
    assert {"PublisherId", "DisplayName"} <= set(meta["tool"]["comfy"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["project"]["version"])
    declared = _pins(meta["project"]["dependencies"])
    required = _pins((PACK / "requirements.txt").read_text().splitlines())
    locked = _pins((REPO / "requirements" / "lock.txt").read_text().splitlines())
    assert declared == required
    assert {name: locked.get(name) for name in required} == required, "the pack must pin what the tests ran with"
