"""Inputs the internet really sends: share-link HTML, audio-only files, group photos, landscapes, giant files."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.video.video_stream import ffmpeg_executable


def audio_only(source_video: Path, target: Path) -> Path:
    """The source's audio track alone, in an mp4 container (what a phone's voice memo export looks like)."""
    subprocess.run([ffmpeg_executable(), "-nostdin", "-v", "error", "-y", "-i", str(source_video), "-vn",
                    "-c:a", "copy", str(target)], check=True)
    return target


def two_people(target: Path) -> Path:
    left, right = sample_face("astronaut"), cv2.resize(sample_face("grace_hopper"), (512, 600))
    left = cv2.resize(left, (512, 600))
    cv2.imwrite(str(target), cv2.cvtColor(np.hstack([left, right]), cv2.COLOR_RGB2BGR))
    return target


def no_face(target: Path) -> Path:
    from skimage import data

    cv2.imwrite(str(target), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    return target


def oversized(target: Path, megabytes: int) -> Path:
    """An mp4 header followed by noise: big enough to trip the size cap before anything else looks at it."""
    with open(target, "wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12)
        handle.write(os.urandom(megabytes * 1024**2))
    return target


def long_video(target: Path, seconds: float) -> Path:
    return write_sample_video(target, SampleVideoSpec(320, 180, Fraction(15), seconds))


def wide_video(target: Path) -> Path:
    return write_sample_video(target, SampleVideoSpec(1280, 720, Fraction(15), 2.0))


def grey_photo(path: Path) -> Path:
    """A sharp, frontal, black-and-white portrait: a face the gate refuses (it would give a grey face)."""
    grey = cv2.cvtColor(sample_face("astronaut"), cv2.COLOR_RGB2GRAY)
    cv2.imwrite(str(path), grey)
    return path
