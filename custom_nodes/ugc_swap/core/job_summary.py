"""The machine-readable summary of one finished swap, shared by the stitch node's output and the driver."""

from __future__ import annotations

from .stitch import StitchedVideo
from .swap_segments import SwappedSegments
from .video.watermark_pattern import payload_hex


def job_summary(swapped: SwappedSegments, stitched: StitchedVideo, stitch_seconds: float = 0.0) -> dict:
    source, plan, report = swapped.planned.source, swapped.planned.plan, swapped.report
    fps = plan.fps
    return {
        "engine": report.engine,
        "duration_s": round(source.duration_s, 3),
        "fps": float(fps),
        "width": source.width,
        "height": source.height,
        "frame_count": source.frame_count,
        "variable_frame_rate_input": source.variable_frame_rate,
        "segments_swapped": [
            {
                "start_s": round(float(r.start / fps), 3),
                "end_s": round(float(r.end / fps), 3),
                "frames": stats.frames,
                "frames_with_face": stats.frames_with_face,
                "shots": stats.shots,
                "skipped": dict(stats.skipped),
            }
            for r, stats in zip(plan.swap_ranges, report.segments)
        ],
        "frames_swapped": report.frames,
        "frames_with_face": report.frames_with_face,
        "warnings": [*plan.clamped, *report.warnings()],
        # The invisible mark's payload in every swapped frame (video/watermark.py), None when marking is off.
        "watermark": payload_hex(swapped.watermark.payload) if swapped.watermark.payload is not None else None,
        "label": swapped.label.mode,  # the visible disclosure label: none, swapped or whole
        # Untouched frames copied as the source's own pictures (not re-encoded), and why none were, if so.
        "stitch": {"frames_copied": stitched.copied_frames, "frames_encoded": stitched.encoded_frames,
                   "not_copied_because": stitched.not_copied_because},
        "stage_seconds": {"swap": round(report.seconds, 3), "stitch": round(stitch_seconds, 3),
                          **{stage: round(s, 3) for stage, s in report.stage_seconds.items()}},
    }
