"""Adding an engine is one module plus one workflow file: a throwaway engine dropped into a copy of the checkout is
offered by the CLI, accepted by a worker's boot check and run by a job, with no driver file edited."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader

REPO = Path(__file__).resolve().parent.parent

PROBE_ENGINE = '''"""A throwaway engine for the registry test: shows every swap frame as its photographic negative."""

from dataclasses import dataclass

import numpy as np

from ..faces.avatar_quality import AvatarQuality
from ..faces.main_face import checked_avatar
from .base import EngineSpec, SwappedFrame


@dataclass(frozen=True)
class Photo:
    quality: AvatarQuality


class NegativeEngine:
    name = "negative"

    def stage_seconds(self):
        return {}

    def prepare_avatar(self, avatar_rgb, settings):
        return Photo(checked_avatar(avatar_rgb, settings.min_face_confidence)[1])

    def swap_segment(self, avatar, frames, segment, fps, settings, stats, visible_masks=None):
        for frame in frames:
            stats.frames += 1
            stats.frames_with_face += 1
            yield SwappedFrame(255 - frame, np.full(frame.shape[:2], 255, np.uint8))


ENGINE = EngineSpec("negative", "every swap frame as its negative (a test engine)", "ugc_swap_negative.api.json",
                    NegativeEngine)
'''


@pytest.fixture(scope="module")
def checkout_with_new_engine(tmp_path_factory) -> Path:
    """A copy of the checkout (tracked and untracked files, not ignored ones) plus the new engine's module and
    workflow, nothing else changed."""
    copy = tmp_path_factory.mktemp("checkout")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    (copy / "custom_nodes/ugc_swap/core/engines/negative.py").write_text(PROBE_ENGINE)
    graph = json.loads((REPO / "workflows/ugc_swap_fast.api.json").read_text())
    for node in graph.values():
        if node["class_type"] == "UGCSwapFaceReplace":
            node["inputs"]["engine"] = "negative"
    (copy / "workflows/ugc_swap_negative.api.json").write_text(json.dumps(graph, indent=2))
    return copy


def _run(copy: Path, code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env, "PYTHONPATH": f"{copy / 'custom_nodes'}:{copy}"}
    return subprocess.run([sys.executable, *code_or_args], cwd=copy, env=environ, capture_output=True, text=True,
                          timeout=600)


def test_the_worker_offers_and_boot_checks_the_new_engine(checkout_with_new_engine, tmp_path):
    code = (
        "import os; from driver.config import load_config; from driver.engine_models import check_engine_models\n"
        "from driver.job_request import parse_job_request; from pathlib import Path\n"
        "config = load_config(os.environ)\n"
        "print(config.engines)\n"
        "check_engine_models(config.engines, [Path(os.environ['MODELS'])], os.environ)\n"
        "request = parse_job_request({'record_id': 'r', 'video_url': 'https://x.example/v.mp4',\n"
        "                             'avatar_url': 'https://x.example/a.png', 'engine': 'negative'})\n"
        "print(request.engine)\n"
    )
    done = _run(checkout_with_new_engine, ["-c", code], UGC_SWAP_S3_BUCKET="b", UGC_SWAP_C2PA="off",
                UGC_SWAP_ENGINES="fast,negative",
                MODELS=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["('fast',", "'negative')", "negative"]
    default = _run(checkout_with_new_engine, ["-c", "from driver.config import DriverConfig; "
                                              "print(DriverConfig(None, None, 60).engines)"])
    assert "'negative'" in default.stdout, default.stderr[-2000:]


def test_a_cli_job_runs_the_new_engine_through_comfyui(checkout_with_new_engine, faceless_video, avatar_png,
                                                       tmp_path):
    out = tmp_path / "out"
    done = _run(checkout_with_new_engine, ["-m", "driver", "run", "--engine", "negative", "--video",
                                           str(faceless_video), "--avatar", str(avatar_png), "--segments",
                                           "0-1 swap, 1-end keep", "--out-dir", str(out), "--work-dir",
                                           str(tmp_path / "comfyui")])
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    assert "Engine negative" in done.stdout
    [result] = out.glob("ugc_swap_*.mp4")
    before = list(FrameReader(probe_video(faceless_video), 0, 40))
    after = list(FrameReader(probe_video(result), 0, 40))
    # Inside the swap second (past the cross-fade) the frame is the negative; after it, the source again.
    middle_before, middle_after = before[15].astype(int), after[15].astype(int)
    assert np.abs(255 - middle_before - middle_after).mean() < 6
    assert np.abs(before[35].astype(int) - after[35].astype(int)).mean() < 3
    assert cv2.imread(str(next(out.glob("*_preview.jpg")))) is not None
