"""docs/reliability.md and the reliability tests stay in sync: every row names a real test, every test has a row."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = ["tests/test_reliability_inputs.py", "tests/test_reliability_faults.py", "tests/test_reliability_guarantees.py"]


def test_every_case_has_a_test_and_every_test_a_case():
    table = (REPO / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"^\|[^|]+\|[^|]+\| `([^`]+)` \|$", table, flags=re.MULTILINE))
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                *FILES], cwd=REPO, capture_output=True, text=True, timeout=120)
    tests = {line.removeprefix("tests/") for line in collected.stdout.splitlines() if "::" in line}
    assert len(tests) >= 40, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert named - tests == set(), "rows naming tests that do not exist"
    assert tests - named == set(), "reliability tests without a row in docs/reliability.md"
