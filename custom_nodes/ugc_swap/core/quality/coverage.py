"""How much of each swap segment showed the customer, and why the rest did not.

Coverage is the share of a segment's planned frames that were swapped or left as filmed by design (the tracked
person turned towards profile or behind something held up: the swap fades there on purpose). Frames where nobody
usable was found (no face, a face too small to swap, the mixed frames of a dissolve) are not covered; a segment
below `min_coverage` makes the job `low_coverage`.
"""

from __future__ import annotations

from fractions import Fraction

from ..engines.base import BY_DESIGN, SegmentStats
from ..faces.main_face import MIN_FACE_PX
from ..segment_plan import FrameRange
from .rule import DEFAULT_MIN_COVERAGE


def _reason(reason: str, frames: int, stats: SegmentStats) -> str:
    if reason == "too_small":
        return (f"{frames} with a face too small to swap (narrowest {stats.smallest_skipped_face_px:g} px wide, "
                f"at least {MIN_FACE_PX:g} px needed)")
    return {"no_face": f"{frames} with no face found",
            "dissolve": f"{frames} inside a dissolve between shots",
            "turned_away": f"{frames} with the face turned away (faded by design)",
            "hidden": f"{frames} with the face hidden (faded by design)"}.get(reason, f"{frames} {reason}")


def coverage_report(segments: list[SegmentStats], swap_ranges: tuple[FrameRange, ...], fps: Fraction,
                    min_coverage: float = DEFAULT_MIN_COVERAGE) -> dict:
    """Per swap segment: frames planned, covered, skipped by reason, shots; and the verdict against
    `min_coverage`."""
    entries, problems = [], []
    for stats, frames in zip(segments, swap_ranges):
        share = round(stats.covered / stats.frames, 3) if stats.frames else None
        entry = {"start_s": round(float(frames.start / fps), 3), "end_s": round(float(frames.end / fps), 3),
                 "frames": stats.frames, "frames_with_face": stats.frames_with_face, "covered": stats.covered,
                 "share": share, "skipped": dict(stats.skipped), "shots": stats.shots}
        if stats.smallest_skipped_face_px is not None:
            entry["smallest_skipped_face_px"] = stats.smallest_skipped_face_px
        entries.append(entry)
        if share is not None and share < min_coverage:
            why = [_reason(r, n, stats) for r, n in sorted(stats.skipped.items(), key=lambda i: -i[1])
                   if r not in BY_DESIGN]
            problems.append(f"{entry['start_s']:g}-{entry['end_s']:g} s: the customer's face is in "
                            f"{stats.covered} of {stats.frames} frames ({share:.0%}, at least {min_coverage:.0%} "
                            f"wanted); {', '.join(why) or 'no reason recorded'}")
    report: dict = {"segments": entries, "min_coverage": min_coverage, "low": bool(problems)}
    if problems:
        report["warning"] = "low coverage: " + "; ".join(problems)
    return report
