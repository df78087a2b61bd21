"""Inputs for the CLI: a local path, an http(s) or s3 URL, or the shipped sample media when none is given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import cv2

from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video

from .content_sniff import Role
from .errors import InputNotFoundError
from .input_fetch import InputLimits, check_input_file, fetch_input
from .url_safety import AddressPolicy

# The CLI's user is the machine's owner: local addresses are fine, the size and format checks still apply.
_CLI_POLICY = AddressPolicy(frozenset({"*"}))


def resolve_input(value: str, destination: Path, role: Role, limits: InputLimits = InputLimits()) -> Path:
    """A local file for `value`: the path itself, or the http(s)/s3 URL downloaded to `destination`; checked as `role`."""
    what = "--video" if role == "video" else "--avatar"
    if urlparse(value).scheme in ("http", "https", "s3"):
        return fetch_input(value, destination, role, what, limits, _CLI_POLICY)
    path = Path(value).expanduser()
    if not path.is_file():
        raise InputNotFoundError(f"{what}: file not found: {path}")
    check_input_file(path, role, what, limits)
    return path


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
