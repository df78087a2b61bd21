"""What a finished job is worth: the quality the graph measured (identity both ways, face coverage, the
before/after sheet; see ugc_swap.core.quality), what the worker does with a poor swap, and the job's cost.

The figures come from ComfyUI's history, made by the graph's Swap quality node from frames the swap had in hand;
nothing here decodes a video. Cost is the job's worker seconds at the worker's per-second price (Runpod's
published flex price for its GPU, unless UGC_SWAP_PRICE_PER_S says otherwise).
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from typing import Literal

from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.quality.rule import DEFAULT_MIN_COVERAGE, DEFAULT_MIN_MARGIN, SAME_PERSON_DISTANCE, IdentityRule

# Runpod serverless flex prices in $/s (runpod.io/pricing, read 2026-11); matched against torch's device name.
RUNPOD_FLEX_PRICES = {"H100": 0.00116, "A100": 0.00076, "L40S": 0.00053, "4090": 0.00031, "L4": 0.00019}

IdentityAction = Literal["warn", "fail"]
CoverageAction = Literal["fail", "review"]


class PoorSwapError(UgcSwapError):
    code = "poor_identity"


class LowCoverageError(UgcSwapError):
    code = "low_coverage"


@dataclass(frozen=True)
class QualitySettings:
    identity_threshold: float = SAME_PERSON_DISTANCE
    identity_min_margin: float = DEFAULT_MIN_MARGIN
    identity_action: IdentityAction = "warn"
    min_coverage: float = DEFAULT_MIN_COVERAGE
    coverage_action: CoverageAction = "fail"
    price_per_s: float | None = None  # None: from the GPU's name, else 0 on CPU

    @property
    def identity_rule(self) -> IdentityRule:
        return IdentityRule(self.identity_threshold, self.identity_min_margin)


def judge_identity(quality: dict, settings: QualitySettings) -> str | None:
    """The identity warning of a finished job (None: fine); PoorSwapError when the worker is set to fail poor
    swaps, so nothing of it is uploaded."""
    return _judged(quality.get("identity"), "poor", settings.identity_action == "fail", PoorSwapError)


def judge_coverage(quality: dict, settings: QualitySettings) -> str | None:
    """The coverage warning of a finished job (None: every swap segment showed the customer enough);
    LowCoverageError unless the worker is set to deliver such jobs for review."""
    return _judged(quality.get("coverage"), "low", settings.coverage_action == "fail", LowCoverageError)


def _judged(report: dict | None, flag: str, fail: bool, error: type[UgcSwapError]) -> str | None:
    """A quality report's warning, raised as `error` when the report says so (`flag`) and the worker fails such
    jobs."""
    warning = (report or {}).get("warning")
    if warning and (report or {}).get(flag) and fail:
        raise error(warning)
    return warning


def review_note(result: dict) -> str | None:
    """What a Complete row that needs a person's look says in its Error_Message (None: nothing to review)."""
    if not result.get("needs_review"):
        return None
    return "[needs_review] " + "; ".join(result.get("review_reasons", []))


def price_per_second(settings: QualitySettings, device_name: str | None) -> tuple[float, str]:
    """($/s, where the figure comes from)."""
    if settings.price_per_s is not None:
        return settings.price_per_s, "UGC_SWAP_PRICE_PER_S"
    for key, price in RUNPOD_FLEX_PRICES.items():
        if device_name and key in device_name.replace(" ", ""):
            return price, f"Runpod flex price for {key}"
    return 0.0, "no GPU price known for this worker (set UGC_SWAP_PRICE_PER_S)"

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
    the cost estimate, identity, coverage and preview URL."""
    timings = result["timings_s"]
    swap, stitch, judged = stages.get("swap", 0.0), stages.get("stitch", 0.0), quality.get("seconds", 0.0)
    in_graph = max(0.0, timings.get("comfyui", 0.0) - swap - stitch - judged)
    result["stages_s"] = {
        "download": timings.get("download_inputs", 0.0),
        "preprocess": round(timings.get("upload_inputs", 0.0) + in_graph, 3),
        "swap": swap, "stitch": stitch, "quality": judged, "upload": timings.get("upload", 0.0),
        **{k: v for k, v in stages.items() if k not in ("swap", "stitch")},
    }
    price, source = price_per_second(settings, device_name)
    result["cost"] = {"usd": round(timings["total"] * price, 5), "seconds": timings["total"], "price_per_s": price,
                      "price_source": source, "device": device_name or "cpu"}
    result["identity"] = quality.get("identity")
    result["coverage"] = quality.get("coverage")
    if quality.get("preview_url"):
        result["preview_url"] = quality["preview_url"]
    warning = (result["identity"] or {}).get("warning")
    if warning:
        result["warnings"] = [*result["warnings"], warning]
    coverage_warning = (result["coverage"] or {}).get("warning")
    result["needs_review"] = bool(coverage_warning)  # delivered although half done (UGC_SWAP_COVERAGE_ACTION=review)
    if coverage_warning:
        result["warnings"] = [*result["warnings"], coverage_warning]
        result["review_reasons"] = [coverage_warning]
    return result
