"""The quality stage of a job: identity both ways, face coverage per segment and the before/after sheet, all from
the samples the swap kept (see samples.py)."""

from __future__ import annotations

import time

import numpy as np

from ..swap_segments import SwappedSegments
from .coverage import coverage_report
from .identity import release_models
from .report import IdentityRule, identity_report
from .rule import DEFAULT_MIN_COVERAGE
from .sheet import quality_sheet


def _caption(frame: int, fps: float, measured: dict) -> str:
    text = f"frame {frame} ({frame / fps:.2f} s)"
    if measured.get("to_avatar") is not None:
        text += f": distance to avatar {measured['to_avatar']:.2f}"
        if measured.get("to_filmed") is not None:
            text += f", to filmed person {measured['to_filmed']:.2f}"
    elif measured:
        text += ": no face measured"
    return text


def swap_quality(swapped: SwappedSegments, avatar_rgb: np.ndarray, rule: IdentityRule = IdentityRule(),
                 min_coverage: float = DEFAULT_MIN_COVERAGE) -> tuple[dict, np.ndarray | None]:
    """(the quality report, the before/after sheet or None when no swap range was sampled)."""
    started = time.perf_counter()
    plan, report = swapped.planned.plan, swapped.report
    samples = list(swapped.samples)
    identity = identity_report(samples, avatar_rgb, plan.swap_ranges, plan.fps, rule)
    coverage = coverage_report(report.segments, plan.swap_ranges, plan.fps, min_coverage)
    measured = {m["frame"]: m for m in identity["frames"]}
    sheet = quality_sheet(samples, [_caption(s.frame, float(plan.fps), measured.get(s.frame, {}))
                                    for s in samples]) if samples else None
    release_models()
    quality = {"identity": identity, "coverage": coverage, "seconds": round(time.perf_counter() - started, 3)}
    return quality, sheet
