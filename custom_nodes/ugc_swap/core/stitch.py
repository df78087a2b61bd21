"""Put swapped frames and untouched frames back together into one video with the source's audio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import VideoProcessingError
from .video.gop_copy import join_pieces
from .video.disclosure import disclose_yuv420
from .progress import ProgressCallback, no_progress
from .swap_segments import SwappedSegments
from .video.video_probe import probe_video
from .video.output_rate import final_encode_for
from .video.video_stream import YUV420, FrameReader, FrameWriter, add_audio
from .video.yuv_patch import keep_untouched_pixels


@dataclass(frozen=True)
class StitchedVideo:
    path: Path
    copied_frames: int  # the source's own pictures, copied untouched
    encoded_frames: int
    not_copied_because: str | None  # why no untouched stretch could be copied, if none was


def stitch_video(swapped: SwappedSegments, output_path: Path, progress: ProgressCallback = no_progress) -> StitchedVideo:
    """Write the final video: source frames outside the swap ranges, swapped frames inside, source audio throughout.

    When the swap step wrote encoded runs (see swap_segments.py), they are joined with the source's own GOPs and
    nothing is encoded here. Otherwise every frame is encoded, staying YUV planes end to end: untouched frames go
    from decoder to encoder bit for bit."""
    source = swapped.planned.source
    for clip in swapped.clips:
        if not clip.path.is_file():
            raise VideoProcessingError(f"swapped clip {clip.path.name} is missing; run the face-replace step again")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    if swapped.layout is not None:
        video_only = output_path.with_name(f".{output_path.stem}.video.mp4")
        try:
            join_pieces(source, swapped.layout, [clip.path for clip in swapped.clips], video_only)
            add_audio(video_only, source, output_path)
        finally:
            video_only.unlink(missing_ok=True)
        progress(source.frame_count, source.frame_count)
        copied = swapped.layout.copied_frames
        return StitchedVideo(output_path, copied, source.frame_count - copied, None)
    clip_frames = {}
    for clip in swapped.clips:
        clip_frames[clip.frames.start] = (clip, iter(FrameReader(probe_video(clip.path), 0, clip.frames.length, YUV420)))
    with FrameWriter(output_path, source.width, source.height, source.fps, final_encode_for(source),
                     audio_source=source, pixel_format=YUV420) as writer:
        active = None
        for index, frame in enumerate(FrameReader(source, pixel_format=YUV420)):
            if index in clip_frames:
                active = clip_frames.pop(index)
            into_segment = None
            if active is not None and index in active[0].frames:
                frame = keep_untouched_pixels(next(active[1]), frame)
                into_segment = (index - active[0].frames.start) / float(source.fps)
            writer.write(disclose_yuv420(frame, source.width, source.height, swapped.label, swapped.watermark,
                                         into_segment, swapped.report.stage_seconds))
            progress(index + 1, source.frame_count)
    return StitchedVideo(output_path, 0, source.frame_count, swapped.not_copied_because)

