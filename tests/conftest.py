"""Shared fixtures: sample media made from shipped real face photos, and one real ComfyUI server per session."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video

# Small frames keep the suite fast on 2 cores; the code paths are the same as at 1080p.
TEST_SPEC = SampleVideoSpec(width=640, height=360, fps=Fraction(30), duration_s=30.0)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def sample_video(media_dir) -> Path:
    """30 s, 30 fps, 640x360, the astronaut portrait moving over a background, with a sine-tone audio track."""
    return write_sample_video(media_dir / "sample_30s.mp4", TEST_SPEC)


@pytest.fixture(scope="session")
def faceless_video(media_dir) -> Path:
    return write_sample_video(media_dir / "faceless_8s.mp4", SampleVideoSpec(640, 360, Fraction(30), 8.0, face=None))


@pytest.fixture(scope="session")
def avatar_png(media_dir) -> Path:
    path = media_dir / "avatar_grace_hopper.png"
    cv2.imwrite(str(path), cv2.cvtColor(sample_face("grace_hopper"), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="session")
def comfyui(tmp_path_factory):
    """A real ComfyUI server (CPU) with the ugc_swap pack linked in, shared by the end-to-end tests."""
    from driver.comfy_server import LocalComfyUI

    if not os.environ.get("UGC_SWAP_COMFYUI_DIR"):
        pytest.fail("UGC_SWAP_COMFYUI_DIR is not set: run the suite through bin/test")
    server = LocalComfyUI(tmp_path_factory.mktemp("comfyui_base")).start()
    yield server
    server.stop()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="session")
def s3_endpoint():
    """One moto_server per session; tests that need a clean slate POST /moto-api/reset."""
    from .moto_s3 import moto_server

    with moto_server() as url:
        yield url
