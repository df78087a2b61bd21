"""Put swapped clips and untouched frames back together into one video with the source's audio."""

from __future__ import annotations

from pathlib import Path

from .errors import VideoProcessingError
from .progress import ProgressCallback, no_progress
from .swap_segments import SwappedSegments
from .video_probe import probe_video
from .video_stream import FINAL_ENCODE, FrameReader, FrameWriter


def stitch_video(swapped: SwappedSegments, output_path: Path, progress: ProgressCallback = no_progress) -> Path:
    """Write the final video: source frames outside the swap ranges, clip frames inside, source audio throughout."""
    source = swapped.planned.source
    total = source.frame_count
    clip_frames = {}
    for clip in swapped.clips:
        if not clip.path.is_file():
            raise VideoProcessingError(f"swapped clip {clip.path.name} is missing; run the face-replace step again")
        clip_frames[clip.frames.start] = (clip, iter(FrameReader(probe_video(clip.path), 0, clip.frames.length)))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with FrameWriter(output_path, source.width, source.height, source.fps, FINAL_ENCODE, audio_source=source) as writer:
        active = None
        for index, frame in enumerate(FrameReader(source)):
            if index in clip_frames:
                active = clip_frames.pop(index)
            if active is not None and index in active[0].frames:
                frame = next(active[1])
            writer.write(frame)
            progress(index + 1, total)
    return output_path
