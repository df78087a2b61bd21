"""Run a face engine over the swap ranges of a plan, writing what the stitch step needs.

Two shapes of output, chosen by the source (see gop_copy.py):
- the source's untouched GOPs can be copied: the engine's frames go straight into the final encode, in runs that
  also hold the untouched frames between each cut and the nearest IDR picture. The encoder then works beside the
  engine instead of after it, and the stitch step only joins runs and copied GOPs;
- they cannot: each swap range becomes a lossless clip, and the stitch step encodes the whole video.
Each range or run gets its own decoder, which skips to its first frame inside ffmpeg (see FrameReader). Clips and
runs are video-only: the stitch step puts the source audio back. Beside them, the visible-face mask of every
swapped frame goes into one mask video spanning the whole source (see mask_video.py).
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import numpy as np

from .errors import VideoProcessingError
from .engines import FaceEngine, SwapSettings, get_engine
from .engines.base import PreparedAvatar, SegmentStats, SwapReport
from .video.gop_copy import CopyLayout, NotCopyable, copy_layout
from .video.disclosure import disclose_yuv420
from .video.label import LabelSettings
from .video.watermark import WatermarkSettings
from .heap import release_freed_memory
from .video.mask_video import MaskVideoWriter, wired_masks
from .planned_video import PlannedVideo
from .progress import ProgressCallback, no_progress
from .quality.samples import QualitySample, SampleCollector
from .segment_plan import FrameRange
from .video.output_rate import final_encode_for
from .video.video_stream import INTERMEDIATE_ENCODE, YUV420, FrameReader, FrameWriter
from .video.yuv_patch import patch_yuv420, yuv420_to_rgb


@dataclass(frozen=True)
class SwappedClip:
    frames: FrameRange
    path: Path


@dataclass(frozen=True)
class SwappedSegments:
    """The swapped ranges of one video as files, plus what the engine saw."""

    planned: PlannedVideo
    # With `layout`: the layout's encoded runs, final quality, to be joined with the source's GOPs.
    # Without: one lossless clip per swap range, to be encoded with the untouched frames.
    clips: tuple[SwappedClip, ...]
    report: SwapReport
    visible_mask: Path  # grey video, whole source length: where the face was allowed to be swapped
    layout: CopyLayout | None = None
    not_copied_because: str | None = None
    # A few frames of each swap range before and after the swap, for the quality report and sheet.
    samples: tuple[QualitySample, ...] = ()
    label: LabelSettings = LabelSettings()  # the visible disclosure label, drawn where it is asked for
    watermark: WatermarkSettings = WatermarkSettings()  # the invisible mark in every swapped frame


class _Swapper:
    """One job's engine, avatar, mask writer and counters, shared by every range it swaps."""

    def __init__(self, engine: FaceEngine, avatar: PreparedAvatar, planned: PlannedVideo, settings: SwapSettings,
                 masks: MaskVideoWriter, report: SwapReport, mask_override: Path | None, progress,
                 label: LabelSettings, watermark: WatermarkSettings) -> None:
        self.engine, self.avatar, self.planned, self.settings = engine, avatar, planned, settings
        self.masks, self.report, self.mask_override, self.progress = masks, report, mask_override, progress
        self.label, self.watermark = label, watermark
        self.samples = SampleCollector(planned.plan.swap_ranges)

    def swapped_frames(self, frames, swap_range: FrameRange):
        """The engine's frames for one swap range, fed from `frames`; masks written as they come."""
        source = self.planned.source
        stats = SegmentStats()
        self.report.segments.append(stats)
        wired = (wired_masks(self.mask_override, swap_range, (source.width, source.height))
                 if self.mask_override else None)
        self.masks.skip_to(swap_range.start)
        watched = self.samples.watch(frames, swap_range)
        for index, swapped in enumerate(self.engine.swap_segment(self.avatar, watched, swap_range, source.fps,
                                                                 self.settings, stats, wired), swap_range.start):
            self.masks.write(swapped.visible)
            self.samples.take(index, swapped.image, swapped.visible)
            self.progress(self.report.frames, self.planned.plan.swapped_frame_count)
            yield swapped.image


def swap_segments(
    planned: PlannedVideo,
    avatar_rgb: np.ndarray,
    engine: FaceEngine | str,
    settings: SwapSettings,
    clip_dir: Path,
    clip_prefix: str,
    progress: ProgressCallback = no_progress,
    mask_override: Path | None = None,
    label: LabelSettings = LabelSettings(),
    watermark: WatermarkSettings = WatermarkSettings(),
) -> SwappedSegments:
    """Swap every range of the plan's swap ranges; on any failure no clip is left behind.

    `mask_override`: an artist's mask video (whole source, frame for frame) used instead of the automatic one."""
    started = time.perf_counter()
    source, plan = planned.source, planned.plan
    engine = get_engine(engine) if isinstance(engine, str) else engine
    avatar = engine.prepare_avatar(avatar_rgb, settings)
    try:
        if label.mode == "whole":
            raise NotCopyable("a visible label on every frame")
        layout, not_copied_because = copy_layout(source, plan.keep_ranges), None
    except NotCopyable as exc:
        layout, not_copied_because = None, str(exc)
    clip_dir.mkdir(parents=True, exist_ok=True)
    report = SwapReport(engine=engine.name, avatar_warnings=list(avatar.quality.warnings))
    clips: list[SwappedClip] = []
    masks = MaskVideoWriter(clip_dir / f"{clip_prefix}_visible_mask.mp4", source, plan.swap_ranges)
    swapper = _Swapper(engine, avatar, planned, settings, masks, report, mask_override, progress, label,
                       watermark)
    try:
        if layout is not None:
            for run, sps_id in zip(layout.runs, layout.run_sps_ids):
                clips.append(_swap_run(swapper, run, sps_id, clip_dir / f"{clip_prefix}_run_{run.start:06d}.mp4"))
        else:
            for swap_range in plan.swap_ranges:
                path = clip_dir / f"{clip_prefix}_{swap_range.start:06d}_{swap_range.end:06d}.mp4"
                clips.append(_swap_clip(swapper, swap_range, path))
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
    return SwappedSegments(planned, tuple(clips), report, mask_path, layout, not_copied_because,
                           tuple(swapper.samples.samples), label, watermark)


def _swap_clip(swapper: _Swapper, swap_range: FrameRange, path: Path) -> SwappedClip:
    source = swapper.planned.source
    with FrameWriter(path, source.width, source.height, source.fps, INTERMEDIATE_ENCODE) as writer:
        for image in swapper.swapped_frames(FrameReader(source, swap_range.start, swap_range.end), swap_range):
            writer.write(image)
    return SwappedClip(swap_range, path)


def _swap_run(swapper: _Swapper, run: FrameRange, sps_id: int, path: Path) -> SwappedClip:
    """One encoded run, final quality. Untouched frames go from decoder to encoder as YUV planes; swapped frames
    are the source's planes with what the engine changed written in (see yuv_patch.py), so nothing beside the face
    takes a colour round trip and no seam shows where a run meets a copied GOP."""
    source = swapper.planned.source
    # The engine keeps one core busy: x264 takes the others (one thread on 2 cores holds ~50 MB less at 1080p
    # than two and encodes as fast beside the engine).
    settings = replace(final_encode_for(source), x264_params=f"sps-id={sps_id}",
                       threads=max(1, (os.cpu_count() or 2) - 1))
    planes = iter(FrameReader(source, run.start, run.end, YUV420))
    index = run.start
    with FrameWriter(path, source.width, source.height, source.fps, settings, pixel_format=YUV420,
                     stored_rotation=source.rotation) as writer:
        for swap_range in (r for r in swapper.planned.plan.swap_ranges if r.start in run):
            for frame in islice(planes, swap_range.start - index):
                writer.write(frame)
            fed: deque[tuple[np.ndarray, np.ndarray]] = deque()  # (planes, RGB) given to the engine, in order
            frames = swapper.swapped_frames(_fed_rgb(planes, swap_range.length, source, fed), swap_range)
            for offset, image in enumerate(frames):
                source_planes, source_rgb = fed.popleft()
                patched = patch_yuv420(source_planes, source_rgb, image)
                writer.write(disclose_yuv420(patched, source.width, source.height, swapper.label,
                                             swapper.watermark, offset / float(source.fps),
                                             swapper.report.stage_seconds))
            index = swap_range.end
        for frame in planes:
            writer.write(frame)
        if writer.frames_written != run.length:
            raise VideoProcessingError(f"frames {run.start}-{run.end}: {writer.frames_written} frames came out")
    return SwappedClip(run, path)


def _fed_rgb(planes, count: int, source, fed: deque):
    """The next `count` frames of `planes` as RGB for the engine, each pair kept in `fed` until its output comes
    (an engine may read ahead, e.g. a window of frames)."""
    for frame in islice(planes, count):
        rgb = yuv420_to_rgb(frame, source.width, source.height)
        fed.append((frame, rgb))
        yield rgb
