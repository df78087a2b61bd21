"""bench/wan_stages.py: the one command for a GPU machine, run here on the real-weights path with tiny files laid
out under the real names the shipped Wan graph loads, and its default-job pricing."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.wan_stages import default_job, graph_files_and_settings

REPO = Path(__file__).resolve().parent.parent


def test_the_default_job_is_priced_from_seconds_per_window_and_the_graphs_steps():
    _, settings = graph_files_and_settings()
    measured = {"shape": {"windows": 2, "steps": 1},
                "seconds": {"conditioning": 2.0, "sampling": 6.0, "decoding": 1.0}}
    job = default_job(measured, settings, 0.001)
    # Per window: 1 s conditioning + 0.5 s decoding + 3 s sampling per step x 4 steps; one window per segment.
    assert (job["windows"], job["steps"]) == (2, 4)
    assert job["model_side_s"] == pytest.approx(2 * (1.0 + 0.5 + 3.0 * 4))
    assert job["dollars"] == pytest.approx(job["model_side_s"] * 0.001, abs=1e-4)
    assert "dollars" not in default_job(measured, settings, None)  # no price known: seconds only


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "bench" / "wan_stages.py"), *args], capture_output=True,
                          text=True, timeout=600, cwd=REPO)


def test_real_weights_mode_loads_the_files_the_graph_names(tmp_path):
    from tools.tiny_wan import write_tiny_models

    missing = _run("--models", str(tmp_path / "empty"))
    assert missing.returncode != 0 and "Wan2_2-Animate-14B_fp8_e4m3fn_scaled_KJ.safetensors" in missing.stderr
    assert "bin/ugc-swap models download" in missing.stderr

    tiny = write_tiny_models(tmp_path / "tiny")
    files, _ = graph_files_and_settings()
    assert len([role for role in files if role.startswith("lora_")]) == 2
    for role, relative in files.items():
        target = tmp_path / "models" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(tiny["lora" if role.startswith("lora_") else role])
    run = _run("--models", str(tmp_path / "models"), "--size", "64", "--frames", "9", "--window", "5",
               "--motion", "1", "--steps", "1", "--price-per-s", "0.001")
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["model"] == "real (--models)" and result["shape"]["windows"] == 2
    assert result["generated"] == [9, 64, 64, 3]
    job = result["default_job"]
    assert job["windows"] == 2 and job["dollars"] == pytest.approx(job["model_side_s"] * 0.001, abs=1e-4)
