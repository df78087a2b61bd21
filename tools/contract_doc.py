"""Write the README's Make.com contract table from the contract itself (driver/contract.py).

`python tools/contract_doc.py` (inside `source bin/_env.sh`) rewrites the part of README.md between the
`contract:start` and `contract:end` markers; tests/test_contract.py fails when the two disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

README = REPO / "README.md"
_SECTION = re.compile(r"(<!-- contract:start -->\n)(.*?)(<!-- contract:end -->)", re.S)


def readme_section(text: str) -> str:
    found = _SECTION.search(text)
    if found is None:
        raise SystemExit("README.md has no <!-- contract:start --> ... <!-- contract:end --> section")
    return found.group(2)


def with_table(text: str, table: str) -> str:
    readme_section(text)  # says what is missing when the markers are gone
    return _SECTION.sub(lambda m: m.group(1) + table + "\n" + m.group(3), text)


def main() -> None:
    from driver.contract import readme_table

    README.write_text(with_table(README.read_text(), readme_table()))
    print(f"wrote the contract table into {README}")


if __name__ == "__main__":
    main()
