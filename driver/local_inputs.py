"""Inputs for the CLI: a local path, an http(s) URL, or the shipped sample media when none is given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import cv2
import requests

from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video

from .errors import InputDownloadError

MAX_DOWNLOAD_BYTES = 2 * 1024**3


def resolve_input(value: str, destination: Path, timeout_s: float = 120.0) -> Path:
    """A local file for `value`: the path itself, or the URL downloaded to `destination`."""
    if urlparse(value).scheme in ("http", "https"):
        return _download(value, destination, timeout_s)
    path = Path(value).expanduser()
    if not path.is_file():
        raise InputDownloadError(f"input file not found: {path}")
    return path


def _download(url: str, destination: Path, timeout_s: float) -> Path:
    temp = destination.with_name(f".{destination.name}.partial")
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with requests.get(url, stream=True, timeout=(10, timeout_s)) as response:
            if not response.ok:
                raise InputDownloadError(f"download of {urlparse(url).netloc} failed with HTTP {response.status_code}")
            size = 0
            with open(temp, "wb") as handle:
                for chunk in response.iter_content(1 << 20):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise InputDownloadError(f"download exceeds {MAX_DOWNLOAD_BYTES // 1024**2} MB")
                    handle.write(chunk)
        temp.replace(destination)
    except requests.RequestException as exc:
        raise InputDownloadError(f"download of {urlparse(url).netloc} failed: {type(exc).__name__}") from None
    finally:
        temp.unlink(missing_ok=True)
    return destination


def sample_inputs(folder: Path, spec: SampleVideoSpec = SampleVideoSpec()) -> tuple[Path, Path]:
    """The demo pair: a 30 s video of the astronaut portrait, and Grace Hopper's photo as the avatar."""
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / f"sample_video_{spec.width}x{spec.height}.mp4"
    if not video.is_file():
        write_sample_video(video, spec)
    avatar = folder / "sample_avatar_grace_hopper.png"
    if not avatar.is_file():
        cv2.imwrite(str(avatar), cv2.cvtColor(sample_face("grace_hopper"), cv2.COLOR_RGB2BGR))
    return video, avatar
