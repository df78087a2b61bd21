"""How good a finished swap came out, from the samples the swap kept: identity both ways per swap segment, and how
much of each segment showed a face.

Identity is judged both ways, because a swap that only half worked looks about as much like the filmed person as
like the customer: per sampled frame, dlib's embedding distance from the swapped face to the avatar photo and to
the filmed face in the same frame before the swap. The margin (to filmed minus to avatar) says whether a viewer
sees the customer; a segment whose median margin is below `min_margin`, or whose median distance to the avatar is
above `max_distance`, is poor (`poor_identity`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..segment_plan import FrameRange
from .identity import face_embedding, identity_distance
from .rule import IdentityRule
from .samples import FACE_PX, QualitySample


@dataclass
class _SegmentFigures:
    to_avatar: list[float] = field(default_factory=list)
    to_filmed: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def identity_report(samples: list[QualitySample], avatar_rgb: np.ndarray, swap_ranges: tuple[FrameRange, ...],
                    fps: Fraction, rule: IdentityRule = IdentityRule()) -> dict:
    """Per segment and overall: median distances to the avatar and to the filmed face, the margin, the verdict."""
    avatar = face_embedding(avatar_rgb)
    figures = [_SegmentFigures() for _ in swap_ranges]
    per_frame = []
    for sample in samples:
        measured = {"frame": sample.frame, "to_avatar": None, "to_filmed": None}
        per_frame.append(measured)
        if sample.result_face is None or avatar is None:
            continue
        swapped = face_embedding(sample.result_face, FACE_PX)
        if swapped is None:
            continue
        seg = figures[sample.segment]
        measured["to_avatar"] = round(identity_distance(swapped, avatar), 3)
        seg.to_avatar.append(measured["to_avatar"])
        filmed = face_embedding(sample.source_face, FACE_PX) if sample.source_face is not None else None
        if filmed is not None:
            measured["to_filmed"] = round(identity_distance(swapped, filmed), 3)
            seg.to_filmed.append(measured["to_filmed"])
            seg.margins.append(round(seg.to_filmed[-1] - seg.to_avatar[-1], 3))
    segments, problems = [], []
    for frames, seg in zip(swap_ranges, figures):
        entry = {"start_s": round(float(frames.start / fps), 3), "end_s": round(float(frames.end / fps), 3),
                 "to_avatar": _median(seg.to_avatar), "to_filmed": _median(seg.to_filmed),
                 "margin": _median(seg.margins), "frames_measured": len(seg.to_avatar),
                 "distances_to_avatar": seg.to_avatar, "distances_to_filmed": seg.to_filmed}
        where = f"{entry['start_s']:g}-{entry['end_s']:g} s"
        if entry["to_avatar"] is not None and entry["to_avatar"] > rule.max_distance:
            problems.append(f"{where}: the swapped face is {entry['to_avatar']} from the avatar "
                            f"(at most {rule.max_distance} wanted)")
        if entry["margin"] is not None and entry["margin"] < rule.min_margin:
            problems.append(f"{where}: the swapped face is about as close to the filmed person as to the customer "
                            f"(distance {entry['to_avatar']} to the avatar, {entry['to_filmed']} to the filmed "
                            f"person: margin {entry['margin']}, at least {rule.min_margin} wanted)")
        segments.append(entry)
    all_to_avatar = [d for seg in figures for d in seg.to_avatar]
    report: dict = {
        "segments": segments,
        "median_distance": _median(all_to_avatar),
        "margin": min((s["margin"] for s in segments if s["margin"] is not None), default=None),
        "threshold": rule.max_distance,
        "min_margin": rule.min_margin,
        "frames_checked": len(samples),
        "frames": per_frame,
        "poor": bool(problems),
    }
    if avatar is None:
        report["warning"] = "identity not measured: dlib finds no face in the avatar photo"
    elif not all_to_avatar:
        report["warning"] = "identity not measured: no swapped face was found in the sampled frames"
    elif problems:
        report["warning"] = "poor identity: " + "; ".join(problems)
    return report
