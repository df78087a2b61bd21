"""Run a face engine over the swap ranges of a plan, writing each swapped range to its own clip.

Each swap range gets its own decoder, which skips to the range's first frame inside ffmpeg (see FrameReader),
and its own lossless clip. Clips are video-only: the stitch step puts the source audio back. Beside the clips, the visible-face mask of every swapped frame goes into
one mask video spanning the whole source (see mask_video.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engines import FaceEngine, SwapSettings, get_engine
from .engines.base import PreparedAvatar, SegmentStats, SwapReport
from .heap import release_freed_memory
from .mask_video import MaskVideoWriter, wired_masks
from .progress import ProgressCallback, no_progress
from .planned_video import PlannedVideo
from .segment_plan import FrameRange
from .video_probe import VideoInfo
from .video_stream import INTERMEDIATE_ENCODE, FrameReader, FrameWriter


@dataclass(frozen=True)
class SwappedClip:
    frames: FrameRange
    path: Path


@dataclass(frozen=True)
class SwappedSegments:
    """The swapped ranges of one video, each as a clip file, plus what the engine saw."""

    planned: PlannedVideo
    clips: tuple[SwappedClip, ...]
    report: SwapReport
    visible_mask: Path  # grey video, whole source length: where the face was allowed to be swapped


def swap_segments(
    planned: PlannedVideo,
    avatar_rgb: np.ndarray,
    engine: FaceEngine | str,
    settings: SwapSettings,
    clip_dir: Path,
    clip_prefix: str,
    progress: ProgressCallback = no_progress,
    mask_override: Path | None = None,
) -> SwappedSegments:
    """Swap every range of the plan's swap ranges; on any failure no clip is left behind.

    `mask_override`: an artist's mask video (whole source, frame for frame) used instead of the automatic one."""
    started = time.perf_counter()
    source, plan = planned.source, planned.plan
    engine = get_engine(engine) if isinstance(engine, str) else engine
    avatar = engine.prepare_avatar(avatar_rgb, settings)
    clip_dir.mkdir(parents=True, exist_ok=True)
    report = SwapReport(engine=engine.name)
    clips: list[SwappedClip] = []
    total = plan.swapped_frame_count
    masks = MaskVideoWriter(clip_dir / f"{clip_prefix}_visible_mask.mp4", source, plan.swap_ranges)
    try:
        for swap_range in plan.swap_ranges:
            path = clip_dir / f"{clip_prefix}_{swap_range.start:06d}_{swap_range.end:06d}.mp4"
            stats = SegmentStats()
            report.segments.append(stats)
            wired = wired_masks(mask_override, swap_range, (source.width, source.height)) if mask_override else None
            masks.skip_to(swap_range.start)
            _swap_one(engine, avatar, source, swap_range, settings, stats, path, masks, wired,
                      lambda: progress(report.frames, total))
            clips.append(SwappedClip(swap_range, path))
        mask_path = masks.close()
    except BaseException:
        masks.abort()
        for clip in clips:
            clip.path.unlink(missing_ok=True)
        raise
    finally:
        release_freed_memory()
    report.seconds = time.perf_counter() - started
    report.stage_seconds.update(engine.stage_seconds())
    return SwappedSegments(planned, tuple(clips), report, mask_path)


def _swap_one(engine, avatar: PreparedAvatar, source: VideoInfo, swap_range: FrameRange, settings: SwapSettings,
              stats: SegmentStats, path: Path, masks: MaskVideoWriter, wired, on_frame) -> None:
    frames = FrameReader(source, swap_range.start, swap_range.end)
    with FrameWriter(path, source.width, source.height, source.fps, INTERMEDIATE_ENCODE) as writer:
        for swapped in engine.swap_segment(avatar, frames, swap_range, source.fps, settings, stats, wired):
            writer.write(swapped.image)
            masks.write(swapped.visible)
            on_frame()
