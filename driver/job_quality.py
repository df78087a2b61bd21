"""What a finished job is worth looking at: identity score, a before/after preview sheet, and its cost.

Identity is dlib's face-embedding distance from the avatar to the swapped face, on frames spread over the swap
segments (below 0.6 = the same person by dlib's calibration). A swap worse than the threshold becomes a warning,
or a failure when configured. Cost is the job's worker seconds at the worker's per-second price (Runpod's
published flex price for its GPU, unless UGC_SWAP_PRICE_PER_S says otherwise).
"""

from __future__ import annotations

import functools
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.identity import SAME_PERSON_DISTANCE, face_embedding, identity_distance
from ugc_swap.core.preview import preview_frame_indices, preview_sheet
from ugc_swap.core.segment_plan import parse_segment_plan, resolve_plan
from ugc_swap.core.video.video_probe import VideoInfo, probe_video
from ugc_swap.core.video.video_stream import FrameReader

# Runpod serverless flex prices in $/s (runpod.io/pricing, read 2026-11); matched against torch's device name.
RUNPOD_FLEX_PRICES = {"H100": 0.00116, "A100": 0.00076, "L40S": 0.00053, "4090": 0.00031, "L4": 0.00019}
_DETECT_WIDTH = 640  # dlib's HOG detector is slow on 1080p; faces in UGC are large enough at this width

IdentityAction = Literal["warn", "fail"]


class PoorSwapError(UgcSwapError):
    code = "poor_identity"


@dataclass(frozen=True)
class QualitySettings:
    identity_threshold: float = SAME_PERSON_DISTANCE
    identity_action: IdentityAction = "warn"
    frames_per_segment: int = 3
    price_per_s: float | None = None  # None: from the GPU's name, else 0 on CPU


def price_per_second(settings: QualitySettings, device_name: str | None) -> tuple[float, str]:
    """($/s, where the figure comes from)."""
    if settings.price_per_s is not None:
        return settings.price_per_s, "UGC_SWAP_PRICE_PER_S"
    for key, price in RUNPOD_FLEX_PRICES.items():
        if device_name and key in device_name.replace(" ", ""):
            return price, f"Runpod flex price for {key}"
    return 0.0, "no GPU price known for this worker (set UGC_SWAP_PRICE_PER_S)"


def sampled_frames(info: VideoInfo, indices: list[int]) -> list[np.ndarray]:
    return [next(iter(FrameReader(info, i, i + 1))) for i in indices]


def identity_report(avatar_rgb: np.ndarray, result_frames: list[np.ndarray], settings: QualitySettings) -> dict:
    """Median distance avatar → swapped face over the frames where dlib sees a face; warning text if poor."""
    avatar = face_embedding(_small(avatar_rgb))
    distances = []
    for frame in result_frames:
        found = face_embedding(_small(frame))
        if avatar is not None and found is not None:
            distances.append(round(identity_distance(avatar, found), 3))
    report: dict = {"distances": distances, "threshold": settings.identity_threshold,
                    "frames_checked": len(result_frames)}
    report["median_distance"] = round(statistics.median(distances), 3) if distances else None
    if report["median_distance"] is None:
        report["warning"] = "identity not measured: no face found in the sampled frames"
    elif report["median_distance"] > settings.identity_threshold:
        report["warning"] = (f"the swapped face is far from the avatar (distance {report['median_distance']} > "
                             f"{settings.identity_threshold})")
    return report


def quality_report(source: Path, output: Path, avatar: Path, segments: str, settings: QualitySettings,
                   preview_path: Path) -> dict:
    """Identity report plus the preview sheet written to `preview_path`; raises PoorSwapError when configured."""
    info = probe_video(source)
    plan = resolve_plan(parse_segment_plan(segments), info.fps, info.frame_count)
    indices = preview_frame_indices(plan.swap_ranges, settings.frames_per_segment)
    if not indices:
        return {"identity": None}
    before, after = sampled_frames(info, indices), sampled_frames(probe_video(output), indices)
    cv2.imwrite(str(preview_path), cv2.cvtColor(preview_sheet(before, after), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 88])
    avatar_rgb = cv2.cvtColor(cv2.imread(str(avatar)), cv2.COLOR_BGR2RGB)
    identity = identity_report(avatar_rgb, after, settings)
    if settings.identity_action == "fail" and "warning" in identity and identity["median_distance"] is not None:
        raise PoorSwapError(identity["warning"])
    return {"identity": identity}


def _small(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    if width <= _DETECT_WIDTH:
        return rgb
    return cv2.resize(rgb, (_DETECT_WIDTH, round(height * _DETECT_WIDTH / width)), interpolation=cv2.INTER_AREA)


@functools.cache
def gpu_name() -> str | None:
    """The worker's GPU as nvidia-smi names it, or None on a CPU worker."""
    try:
        found = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() else None


def with_report(result: dict, stages: dict[str, float], quality: dict, settings: QualitySettings,
                device_name: str | None) -> dict:
    """The Complete result plus stages in the issue's terms (`stages`: the workflow's own seconds per stage),
    the cost estimate, identity and preview URL."""
    timings = result["timings_s"]
    swap, stitch = stages.get("swap", 0.0), stages.get("stitch", 0.0)
    result["stages_s"] = {
        "download": timings.get("download_inputs", 0.0),
        "preprocess": round(timings.get("upload_inputs", 0.0) + max(0.0, timings.get("comfyui", 0.0) - swap - stitch), 3),
        "swap": swap, "stitch": stitch, "quality": timings.get("quality", 0.0), "upload": timings.get("upload", 0.0),
        **{k: v for k, v in stages.items() if k not in ("swap", "stitch")},
    }
    price, source = price_per_second(settings, device_name)
    result["cost"] = {"usd": round(timings["total"] * price, 5), "seconds": timings["total"], "price_per_s": price,
                      "price_source": source, "device": device_name or "cpu"}
    result["identity"] = quality.get("identity")
    if quality.get("preview_url"):
        result["preview_url"] = quality["preview_url"]
    if result["identity"] and result["identity"].get("warning"):
        result["warnings"] = [*result["warnings"], result["identity"]["warning"]]
    return result
