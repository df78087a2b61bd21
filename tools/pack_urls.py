"""Fill the node pack's registry links from this repository's own `origin` remote, the way `comfy node init` does.

`python tools/pack_urls.py` (run before `comfy node publish`) writes `[project.urls]` (Repository, Documentation,
Bug Tracker) and `[tool.comfy] Icon` in custom_nodes/ugc_swap/pyproject.toml. The links are never typed by hand, so
a fork publishes its own links; a clone with no `origin` remote leaves them empty and says so.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
PACK = REPO / "custom_nodes" / "ugc_swap"
ICON = "icon.png"
README_SECTION = "install-into-your-own-comfyui"


@dataclass(frozen=True)
class PackUrls:
    repository: str
    documentation: str
    bug_tracker: str
    icon: str


def web_url(remote: str) -> str:
    """The browsable https address of a git remote, with any credentials in it dropped."""
    remote = remote.strip()
    if ssh := re.fullmatch(r"(?:ssh://)?[\w.-]+@([\w.-]+)[:/](.+?)", remote):
        remote = f"https://{ssh[1]}/{ssh[2]}"
    parsed = urlparse(remote)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"the origin remote is not a web address git hosts serve: {parsed.scheme or 'a path'}")
    host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(scheme="https", netloc=host, path=parsed.path.removesuffix(".git").rstrip("/")))


def pack_urls(repository: str, branch: str, pack_path: str) -> PackUrls:
    """Links for a repository on GitHub, GitLab or Codeberg-style hosts (raw files under /raw/branch/)."""
    host = urlparse(repository).hostname or ""
    if host == "github.com":
        raw = repository.replace("https://github.com/", "https://raw.githubusercontent.com/", 1) + f"/{branch}"
    elif "gitlab" in host:
        raw = f"{repository}/-/raw/{branch}"
    else:
        raw = f"{repository}/raw/branch/{branch}"
    return PackUrls(repository=repository, documentation=f"{repository}#{README_SECTION}",
                    bug_tracker=f"{repository}/issues", icon=f"{raw}/{pack_path}/{ICON}")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def urls_from_git(repo: Path = REPO, pack: Path = PACK) -> PackUrls | None:
    """None when the repository has no `origin` remote (git exits 2 for a missing remote)."""
    remote = _git(repo, "remote", "get-url", "origin")
    if remote.returncode == 2:
        return None
    if remote.returncode != 0:
        raise RuntimeError(f"git remote get-url origin failed: {remote.stderr.strip()}")
    head = _git(repo, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    branch = head.stdout.strip().removeprefix("origin/") if head.returncode == 0 else ""
    branch = branch or _git(repo, "branch", "--show-current").stdout.strip() or "main"
    return pack_urls(web_url(remote.stdout), branch, pack.relative_to(repo).as_posix())


def with_urls(pyproject: str, urls: PackUrls) -> str:
    """pyproject.toml's text with [project.urls] and Icon set; everything else, comments included, kept."""
    table = ("[project.urls]\n" f'Repository = "{urls.repository}"\n' f'Documentation = "{urls.documentation}"\n'
             f'"Bug Tracker" = "{urls.bug_tracker}"\n\n')
    text = re.sub(r"\[project\.urls\]\n(?:[^\[\n][^\n]*\n|\n)*", "", pyproject)
    text = text.replace("[tool.comfy]\n", table + "[tool.comfy]\n", 1)
    text = re.sub(r'(?m)^Icon = ".*"$', f'Icon = "{urls.icon}"', text)
    parsed = tomllib.loads(text)
    assert parsed["project"]["urls"]["Repository"] == urls.repository and parsed["tool"]["comfy"]["Icon"] == urls.icon
    return text


def main(repo: Path = REPO, pack: Path = PACK) -> int:
    urls = urls_from_git(repo, pack)
    if urls is None:
        print("this repository has no `origin` remote: [project.urls] and Icon left as they are", file=sys.stderr)
        return 1
    target = pack / "pyproject.toml"
    target.write_text(with_urls(target.read_text(), urls))
    print(f"{target}: Repository {urls.repository}, Icon {urls.icon}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
