"""The segment plan: which stretches of the video get the customer's face.

A plan is written in seconds (``"0-5 swap, 5-15 keep, 15-20 swap, 20-30 keep"`` or the same as JSON) and resolved
against one video into exact half-open frame ranges at the video's (constant, normalized) frame rate. Anything a
plan does not cover is kept as filmed, so a 40 s video under the default plan keeps 30-40 s untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .errors import SegmentPlanError

Action = Literal["swap", "keep"]
ACTIONS: tuple[Action, ...] = ("swap", "keep")
DEFAULT_SEGMENT_PLAN = "0-5 swap, 5-15 keep, 15-20 swap, 20-30 keep"

_TEXT_SEGMENT = re.compile(
    r"^\s*(?P<start>\d+(?:\.\d+)?)\s*(?:s(?![a-z])\s*)?-\s*(?P<end>\d+(?:\.\d+)?|end)\s*(?:s(?![a-z])\s*)?[:=]?\s*"
    r"(?P<action>[a-z]+)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Segment:
    """One stretch of the plan in seconds; `end_s` is None for "to the end of the video"."""

    start_s: float
    end_s: float | None
    action: Action


@dataclass(frozen=True)
class FrameRange:
    """Half-open range of frame indices [start, end)."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def __contains__(self, frame_index: object) -> bool:
        return isinstance(frame_index, int) and self.start <= frame_index < self.end


@dataclass(frozen=True)
class ResolvedPlan:
    """A plan bound to one video: every frame index belongs to exactly one range, swap or keep."""

    fps: Fraction
    frame_count: int
    swap_ranges: tuple[FrameRange, ...]
    keep_ranges: tuple[FrameRange, ...]
    # What of the plan ran past the video's end, said as warnings (the plan is cut to the video, not refused).
    clamped: tuple[str, ...] = ()

    @property
    def swapped_frame_count(self) -> int:
        return sum(r.length for r in self.swap_ranges)

    def describe(self) -> str:
        def seconds(r: FrameRange) -> str:
            return f"{float(r.start / self.fps):.2f}-{float(r.end / self.fps):.2f}s"

        return ", ".join(seconds(r) for r in self.swap_ranges)


def parse_segment_plan(plan_text: str) -> tuple[Segment, ...]:
    """Parse a plan from text (``"0-5 swap, 5-15 keep"``, comma/semicolon/newline separated) or JSON.

    JSON may be a list of ``{"start": 0, "end": 5, "action": "swap"}`` objects or ``{"segments": [...]}``.
    """
    text = (plan_text or "").strip()
    if not text:
        raise SegmentPlanError("segment plan is empty; expected e.g. " + repr(DEFAULT_SEGMENT_PLAN))
    segments = _parse_json_plan(text) if text[0] in "[{" else _parse_text_plan(text)
    _check_order(segments)
    return segments


def _parse_text_plan(text: str) -> tuple[Segment, ...]:
    segments = []
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        match = _TEXT_SEGMENT.match(part)
        if not match:
            raise SegmentPlanError(f"cannot read segment {part.strip()!r}; expected '<start>-<end> swap|keep'")
        end = None if match["end"].lower() == "end" else float(match["end"])
        segments.append(Segment(float(match["start"]), end, _action(match["action"], part)))
    return tuple(segments)


def _parse_json_plan(text: str) -> tuple[Segment, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SegmentPlanError(f"segment plan is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if isinstance(data, dict):
        data = data.get("segments")
    if not isinstance(data, list):
        raise SegmentPlanError("JSON segment plan must be a list of segments or {'segments': [...]}")
    segments = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise SegmentPlanError(f"segment #{i + 1} must be an object with start, end and action")
        start, end = item.get("start"), item.get("end")
        if not _is_number(start) or not (end is None or end == "end" or _is_number(end)):
            raise SegmentPlanError(f"segment #{i + 1} needs numeric 'start' and 'end' (seconds), got {start!r}, {end!r}")
        end_s = None if end in (None, "end") else float(end)
        segments.append(Segment(float(start), end_s, _action(str(item.get("action", "")), f"segment #{i + 1}")))
    return tuple(segments)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _action(word: str, where: str) -> Action:
    action = word.strip().lower()
    if action not in ACTIONS:
        raise SegmentPlanError(f"unknown action {word!r} in {where.strip()!r}; use 'swap' or 'keep'")
    return action  # type: ignore[return-value]


def _check_order(segments: tuple[Segment, ...]) -> None:
    if not segments:
        raise SegmentPlanError("segment plan has no segments")
    previous_end = 0.0
    for i, seg in enumerate(segments):
        label = f"segment #{i + 1} ({seg.start_s:g}-{'end' if seg.end_s is None else f'{seg.end_s:g}'})"
        if seg.start_s < 0:
            raise SegmentPlanError(f"{label} starts before 0 s")
        if seg.end_s is not None and seg.end_s <= seg.start_s:
            raise SegmentPlanError(f"{label} ends before it starts")
        if seg.start_s < previous_end:
            raise SegmentPlanError(f"{label} overlaps the segment before it or is out of order")
        if seg.end_s is None and i != len(segments) - 1:
            raise SegmentPlanError(f"{label} runs to the end, so it must be the last segment")
        previous_end = seg.end_s if seg.end_s is not None else float("inf")
    if not any(seg.action == "swap" for seg in segments):
        raise SegmentPlanError("segment plan has no 'swap' segment, so nothing would change")


def seconds_to_frame(seconds: float, fps: Fraction) -> int:
    """Index of the first frame at or after `seconds` (frame k covers [k/fps, (k+1)/fps))."""
    return int(round(Fraction(seconds).limit_denominator(1_000_000) * fps))


def resolve_plan(segments: tuple[Segment, ...], fps: Fraction, frame_count: int) -> ResolvedPlan:
    """Bind a plan to a video of `frame_count` frames at `fps`: clamp to the end, drop empty ranges."""
    if frame_count <= 0:
        raise SegmentPlanError("the video has no frames")
    swap_ranges, clamped = [], []
    duration = float(frame_count / fps)
    for seg in segments:
        if seg.action != "swap":
            continue
        start = min(seconds_to_frame(seg.start_s, fps), frame_count)
        end = frame_count if seg.end_s is None else min(seconds_to_frame(seg.end_s, fps), frame_count)
        named = f"swap {seg.start_s:g}-{'end' if seg.end_s is None else f'{seg.end_s:g}'} s"
        if end > start:
            swap_ranges.append(FrameRange(start, end))
            if seg.end_s is not None and seg.end_s > duration + 0.5 / float(fps):
                clamped.append(f"segments: {named} runs past the end of the {duration:.2f} s video; swapped "
                               f"{seg.start_s:g}-{duration:.2f} s")
        elif seg.end_s is not None:
            clamped.append(f"segments: {named} lies past the end of the {duration:.2f} s video; left out")
    if not swap_ranges:
        raise SegmentPlanError(f"every swap segment lies past the end of the video ({duration:.2f} s long)")
    return ResolvedPlan(fps, frame_count, tuple(swap_ranges), _gaps(swap_ranges, frame_count), tuple(clamped))


def _gaps(swap_ranges: list[FrameRange], frame_count: int) -> tuple[FrameRange, ...]:
    keep, cursor = [], 0
    for r in swap_ranges:
        if r.start > cursor:
            keep.append(FrameRange(cursor, r.start))
        cursor = r.end
    if cursor < frame_count:
        keep.append(FrameRange(cursor, frame_count))
    return tuple(keep)
