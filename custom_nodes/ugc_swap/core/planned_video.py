"""A source video bound to its segment plan: what the segment-plan node outputs and the driver validates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .segment_plan import ResolvedPlan, parse_segment_plan, resolve_plan
from .video.video_probe import VideoInfo, probe_video


@dataclass(frozen=True)
class PlannedVideo:
    source: VideoInfo
    plan: ResolvedPlan

    def summary(self) -> str:
        vfr = " (variable frame rate, normalized)" if self.source.variable_frame_rate else ""
        return (
            f"{self.source.width}x{self.source.height} @ {float(self.source.fps):.3f} fps{vfr}, "
            f"{self.source.duration_s:.2f} s, {self.source.frame_count} frames; "
            f"swap {self.plan.describe()} ({self.plan.swapped_frame_count} frames)"
        )


def plan_video(video_path: str | Path, plan_text: str) -> PlannedVideo:
    """Parse the plan first (cheap, and its errors are the user's), then probe the video and bind the two."""
    segments = parse_segment_plan(plan_text)
    source = probe_video(video_path)
    return PlannedVideo(source, resolve_plan(segments, source.fps, source.frame_count))
