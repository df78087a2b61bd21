"""Put swapped clips and untouched frames back together into one video with the source's audio."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .copy_plan import Piece, encoded_frames, plan_pieces
from .errors import VideoProcessingError
from .gop_copy import NotCopyable, SourceGops, join_pieces, scan_source
from .h264_config import BitstreamError, free_sps_ids
from .progress import ProgressCallback, no_progress
from .segment_plan import FrameRange
from .swap_segments import SwappedSegments
from .video_probe import probe_video
from .video_stream import FINAL_ENCODE, YUV420, FrameReader, FrameWriter, add_audio

# Swapped frames reached the engine as RGB and came back: pixels it left alone differ from the source only by
# that colour round trip (measured: 99.9 % of samples within 2 levels). Those pixels are taken from the source as they were, or the
# whole frame would shift by round-trip noise at each cut and show as a seam.
_ROUND_TRIP_LEVELS = 2


@dataclass(frozen=True)
class StitchedVideo:
    path: Path
    copied_frames: int  # the source's own pictures, copied untouched
    encoded_frames: int
    not_copied_because: str | None  # why no untouched stretch could be copied, if none was


def stitch_video(swapped: SwappedSegments, output_path: Path, progress: ProgressCallback = no_progress) -> StitchedVideo:
    """Write the final video: source frames outside the swap ranges, clip frames inside, source audio throughout.

    Whole GOPs of untouched frames are copied from the source as they are (see gop_copy.py); the rest is encoded.
    Frames that are encoded stay YUV planes end to end: untouched ones go from decoder to encoder bit for bit."""
    source = swapped.planned.source
    for clip in swapped.clips:
        if not clip.path.is_file():
            raise VideoProcessingError(f"swapped clip {clip.path.name} is missing; run the face-replace step again")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        gops = scan_source(source)
        pieces = plan_pieces(swapped.planned.plan.keep_ranges, gops.idr_frames, source.frame_count)
        reason = None if any(piece.copied for piece in pieces) else "no whole GOP inside an untouched segment"
    except NotCopyable as exc:
        reason = str(exc)
    if reason is None:
        try:
            return _stitch_with_copies(swapped, gops, pieces, output_path, progress)
        except BitstreamError as exc:
            reason = str(exc)  # e.g. no parameter-set ids left for the runs: encode it all instead
    everything = FrameRange(0, source.frame_count)
    with FrameWriter(output_path, source.width, source.height, source.fps, FINAL_ENCODE,
                     audio_source=source, pixel_format=YUV420) as writer:
        _write_frames(swapped, everything, writer, lambda done: progress(done, source.frame_count))
    return StitchedVideo(output_path, 0, source.frame_count, reason)


def _stitch_with_copies(swapped: SwappedSegments, gops: SourceGops, pieces: tuple[Piece, ...], output_path: Path,
                        progress: ProgressCallback) -> StitchedVideo:
    source = swapped.planned.source
    runs = [piece.frames for piece in pieces if not piece.copied]
    sps_ids = free_sps_ids(gops.order.config.sps_ids, len(runs))
    run_paths = [output_path.with_name(f".{output_path.stem}.run{i}.mp4") for i in range(len(runs))]
    video_only = output_path.with_name(f".{output_path.stem}.video.mp4")
    done = 0
    try:
        for frames, path, sps_id in zip(runs, run_paths, sps_ids):
            settings = replace(FINAL_ENCODE, x264_params=f"sps-id={sps_id}")
            with FrameWriter(path, source.width, source.height, source.fps, settings, pixel_format=YUV420) as writer:
                _write_frames(swapped, frames, writer, lambda n, before=done: progress(before + n, source.frame_count))
            done += frames.length
        join_pieces(source, gops, pieces, run_paths, video_only)
        add_audio(video_only, source, output_path)
    finally:
        for path in [*run_paths, video_only]:
            path.unlink(missing_ok=True)
    progress(source.frame_count, source.frame_count)
    encoded = encoded_frames(pieces)
    return StitchedVideo(output_path, source.frame_count - encoded, encoded, None)


def _write_frames(swapped: SwappedSegments, frames: FrameRange, writer: FrameWriter, progress) -> None:
    """Encode frames [start, end): the source's, or a clip's where a swap range covers them. A run never splits a
    swap range (copied pieces lie inside untouched segments), so each clip is read whole, from its first frame."""
    clips = {clip.frames.start: clip for clip in swapped.clips if clip.frames.start in frames}
    active = None
    for count, frame in enumerate(FrameReader(swapped.planned.source, frames.start, frames.end, YUV420), start=1):
        index = frames.start + count - 1
        if index in clips:
            clip = clips.pop(index)
            active = (clip, iter(FrameReader(probe_video(clip.path), 0, clip.frames.length, YUV420)))
        if active is not None and index in active[0].frames:
            frame = keep_untouched_pixels(next(active[1]), frame)
        writer.write(frame)
        progress(count)


def keep_untouched_pixels(swapped: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The swapped frame, with every sample within colour round-trip noise of the source replaced by the source's."""
    unchanged = np.abs(swapped.astype(np.int16) - source) <= _ROUND_TRIP_LEVELS
    return np.where(unchanged, source, swapped)
