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


# The demo pair: the filmed person is Grace Hopper, the customer the astronaut. The other way round the customer's
# photo would bring a hat brim and glasses the swap leaves out (docs/quality.md), and the demo would end as a
# poor-identity warning.
DEMO_FILMED, DEMO_AVATAR = "grace_hopper", "astronaut"


def sample_inputs(folder: Path, spec: SampleVideoSpec = SampleVideoSpec(face=DEMO_FILMED)) -> tuple[Path, Path]:
    """The demo pair: a 30 s video of Grace Hopper's portrait (or `spec.face`'s), and the astronaut's photo as the
    avatar."""
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / f"sample_video_{spec.face}_{spec.width}x{spec.height}.mp4"
    if not video.is_file():
        write_sample_video(video, spec)
    avatar = folder / f"sample_avatar_{DEMO_AVATAR}.png"
    if not avatar.is_file():
        cv2.imwrite(str(avatar), cv2.cvtColor(sample_face(DEMO_AVATAR), cv2.COLOR_RGB2BGR))
    return video, avatar
