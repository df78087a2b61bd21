"""Streaming video I/O through ffmpeg pipes: one frame in memory at a time, whatever the video's length.

Every reader decodes to the constant frame rate of `VideoInfo.fps`, so a variable-frame-rate phone clip is
normalized on the way in and frame index k always means time k / fps. Writers publish their file only when
ffmpeg finished cleanly (temp name, then rename), so a failed job never leaves a half-written video behind.

Frames travel either as RGB (what face engines work on) or as YUV 4:2:0 planes in the output's colour space
(BT.709, limited range). Stitching uses the YUV form: untouched frames then go from decoder to encoder without
an RGB round trip (half the pipe bytes, two colour conversions fewer, and no rounding drift on kept pixels).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import VideoProcessingError
from .colour_tags import decode_matrix_filter
from .hdr import decode_filters
from .video_probe import VideoInfo

# Audio codecs the mp4 muxer takes as they are; anything else (PCM, Vorbis, ...) is re-encoded to AAC.
_MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"})


@dataclass(frozen=True)
class EncodeSettings:
    """x264 settings. Swapped clips are lossless (crf 0): otherwise swapped frames would go through one lossy
    encode more than the untouched frames beside them, and the change of compression texture shows as a seam at
    every segment edge (measured: a 50 % jump in frame difference at the cut with crf 12). They are 4:2:0 like the
    final video, so stitching reads them back as the exact planes it encodes."""

    crf: int = 18
    preset: str = "veryfast"
    pix_fmt: str = "yuv420p"
    x264_params: str = ""  # e.g. "sps-id=3" for a run joined to copied source pictures
    # x264 threads; None = one per core (x264's own default of 1.5 per core encodes no faster here and holds
    # ~30 MB more at 1080p).
    threads: int | None = None
    # x264's rate cap (VBV), bits/s and bits; None encodes at the crf alone (video/output_rate.py).
    max_bitrate: int | None = None
    buffer_bits: int | None = None


FINAL_ENCODE = EncodeSettings(crf=18, preset="veryfast")
INTERMEDIATE_ENCODE = EncodeSettings(crf=0, preset="ultrafast", pix_fmt="yuv420p")
# Lossless: an edited mask comes back as is. One thread: grey masks are light work, and it holds ~17 MB less.
MASK_ENCODE = EncodeSettings(crf=0, preset="ultrafast", pix_fmt="gray", threads=1)

RGB = "rgb24"
YUV420 = "yuv420p"
GRAY = "gray"  # single-channel masks, full 0-255 range
# Converts whatever the source holds (BT.601, full range, 10 bit, 4:2:2) into the planes the encoder takes;
# a BT.709 limited-range 4:2:0 source passes through untouched.
_TO_OUTPUT_YUV = "out_color_matrix=bt709:out_range=tv,format=yuv420p"  # the scale filter's options


def _rate_cap(settings: EncodeSettings) -> list[str]:
    if not settings.max_bitrate:
        return []
    return ["-maxrate", str(settings.max_bitrate), "-bufsize", str(settings.buffer_bits or 2 * settings.max_bitrate)]


def frame_shape(pixel_format: str, width: int, height: int) -> tuple[int, ...]:
    """Array shape of one frame: (h, w, 3) for RGB, the Y, U and V planes stacked as (h * 3/2, w) for YUV,
    (h, w) for a grey mask."""
    if pixel_format == RGB:
        return (height, width, 3)
    if pixel_format == YUV420:
        return (height * 3 // 2, width)
    if pixel_format == GRAY:
        return (height, width)
    raise ValueError(f"unsupported pixel format {pixel_format!r}")


def ffmpeg_executable() -> str:
    """The static ffmpeg shipped inside imageio-ffmpeg (libx264 included), unless UGC_SWAP_FFMPEG overrides it."""
    override = os.environ.get("UGC_SWAP_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def fps_arg(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


@dataclass
class FrameReader:
    """Yields frames [start, end) of a video at its normalized constant frame rate, as RGB or YUV420 arrays.

    Exactly `end - start` frames come out: if the decoder stops a frame or two early (rounding of a
    variable-rate stream), the last frame is repeated and counted in `padded_frames`. Frames before `start`
    are dropped inside ffmpeg, before any colour conversion or pipe copy.
    """

    info: VideoInfo
    start: int = 0
    end: int | None = None
    pixel_format: str = RGB
    padded_frames: int = field(default=0, init=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        end = self.info.frame_count if self.end is None else self.end
        if not 0 <= self.start <= end <= self.info.frame_count:
            raise ValueError(f"frame range {self.start}-{end} outside 0-{self.info.frame_count}")
        shape = frame_shape(self.pixel_format, self.info.width, self.info.height)
        frame_bytes = int(np.prod(shape))
        # trim counts frames after the fps filter, so frame k is exactly time k / fps however the file is timed;
        # setpts restarts the clock, or the muxer would pad the skipped time with copies of the first frame.
        filters = f"fps={fps_arg(self.info.fps)},trim=start_frame={self.start},setpts=PTS-STARTPTS"
        if self.info.hdr_transfer:  # everything downstream works on the SDR picture (video/hdr.py)
            filters += "," + decode_filters(self.info.hdr_transfer, self.info.full_range)  # type: ignore[arg-type]
        read_as = "" if self.info.hdr_transfer else decode_matrix_filter(self.info.untagged_matrix)
        if self.pixel_format == YUV420:
            filters += f",scale={read_as}{_TO_OUTPUT_YUV}"
        elif read_as:
            filters += f",scale={read_as.rstrip(':')},format={self.pixel_format}"
        # One decoding thread: a single thread decodes 1080p H.264 at ~250 fps, far ahead of every consumer here
        # (engine ~20 fps, encoder ~50 fps), and each extra frame thread holds its own frames (measured: 112 MB
        # with ffmpeg's default threads, 71 MB with one, at 1080p).
        command = [
            ffmpeg_executable(), "-nostdin", "-v", "error", "-threads", "1", "-i", self.info.path,
            "-map", "0:v:0", "-vf", filters, "-frames:v", str(end - self.start),
            "-f", "rawvideo", "-pix_fmt", self.pixel_format, "pipe:1",
        ]  # fmt: skip
        with tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, bufsize=frame_bytes)
            try:
                last = None
                delivered = 0
                while delivered < end - self.start:
                    raw = process.stdout.read(frame_bytes)
                    if len(raw) < frame_bytes:
                        break
                    last = np.frombuffer(raw, np.uint8).reshape(shape)
                    delivered += 1
                    yield last
                missing = end - self.start - delivered
                if missing > 0:
                    if last is None or missing > 2:
                        raise VideoProcessingError(
                            f"decoder stopped at frame {self.start + delivered} of {end}: "
                            f"{stderr_tail(stderr) or 'no error output'}"
                        )
                    self.padded_frames = missing
                    for _ in range(missing):
                        yield last
            finally:
                process.kill()
                process.wait()


class FrameWriter:
    """Encodes RGB or YUV420 frames into an H.264 mp4, optionally copying the audio of `audio_source` through."""

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        settings: EncodeSettings = FINAL_ENCODE,
        audio_source: VideoInfo | None = None,
        audio_path: str | Path | None = None,
        pixel_format: str = RGB,
        slots: Sequence[int] | None = None,
        stored_rotation: int = 0,
    ) -> None:
        """`audio_source` copies a video's audio track through; `audio_path` takes any audio file instead.
        YUV420 frames must already be BT.709 limited range (as `FrameReader` gives them): they are not converted.

        `slots`: the frame index each written frame takes in the video, ascending; a slot left out repeats the
        frame before it inside ffmpeg, so long still stretches cost neither pipe bytes nor Python time.

        `stored_rotation`: the frames (upright, as `FrameReader` gives them) are turned back into the stored
        orientation of a source with this display rotation, so the pictures can sit beside its own in one track;
        the file itself carries no rotation flag (the join takes the source's)."""
        self.path = Path(path)
        self.frames_written = 0
        self._shape = frame_shape(pixel_format, width, height)
        self._temp_path = _partial_path(self.path)
        # YUV input is labelled as what it is; unlabelled, ffmpeg would take it for BT.601 and "convert" it.
        # Primaries and transfer too: ffmpeg writes the stream's colour tags from the frames' own, so unlabelled
        # input leaves them "unknown" in the file whatever the output flags say.
        yuv_labels = ["-colorspace", "bt709", "-color_range", "tv"] if pixel_format == YUV420 else []
        if pixel_format != GRAY:
            yuv_labels += ["-color_primaries", "bt709", "-color_trc", "bt709"]
        command = [
            ffmpeg_executable(), "-nostdin", "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", pixel_format, "-s", f"{width}x{height}", "-r", fps_arg(fps),
            *yuv_labels, "-i", "pipe:0",
        ]  # fmt: skip
        command += _audio_arguments(audio_source, audio_path)
        filters = [_placement_filter(slots, fps)] if slots else []
        if stored_rotation:
            filters.append(_UNROTATE[stored_rotation])
        if pixel_format == RGB:
            filters.append("scale=out_color_matrix=bt709:out_range=tv")
        if pixel_format == GRAY:
            colour = ["-color_range", "pc"]  # a mask keeps its full 0-255 range; no colour matrix applies to it
        else:
            colour = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
        if filters:
            colour += ["-vf", ",".join(filters)]
        if slots:
            colour += ["-frames:v", str(slots[-1] + 1)]
        threads = settings.threads or os.cpu_count() or 1
        command += [
            "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf), "-threads", str(threads),
            *(["-x264-params", settings.x264_params] if settings.x264_params else []), *_rate_cap(settings), *colour,
            "-pix_fmt", settings.pix_fmt, "-movflags", "+faststart", "-f", "mp4", str(self._temp_path),
        ]  # fmt: skip
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=self._stderr)

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != self._shape or frame.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {self._shape} uint8")
        try:
            self._process.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            raise VideoProcessingError(f"encoder stopped: {stderr_tail(self._stderr)}") from None
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and publish it under its final name."""
        try:
            self._process.stdin.close()
        except BrokenPipeError:
            pass
        if self._process.wait() != 0:
            message = stderr_tail(self._stderr)
            self.abort()
            raise VideoProcessingError(f"encoder failed: {message}")
        self._stderr.close()
        os.replace(self._temp_path, self.path)
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and remove the partial file."""
        self._process.kill()
        self._process.wait()
        self._stderr.close()
        self._temp_path.unlink(missing_ok=True)

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# Turn an upright picture back into the stored orientation of a file whose rotation reads `r` (VideoInfo.rotation:
# counter-clockwise, as PyAV reports it; ffmpeg's autorotate applies the opposite turn on decoding). Checked by
# round trip for each angle (tests/test_gop_copy.py). Each is a lossless pixel permutation.
_UNROTATE = {90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}


def _placement_filter(slots: Sequence[int], fps: Fraction) -> str:
    """setpts moving written frame n to slot slots[n], then fps filling each gap with the frame before it."""
    if any(b <= a for a, b in zip(slots, slots[1:])) or slots[0] < 0:
        raise ValueError("frame slots must ascend from 0 or more")
    terms, offset = [], 0
    for n, slot in enumerate(slots):
        if slot - n != offset or n == 0:
            terms.append(f"{slot - n - offset}*gte(N,{n})")
            offset = slot - n
    return f"setpts='(N+{'+'.join(terms)})/FRAME_RATE/TB',fps={fps_arg(fps)}"


def _audio_arguments(audio_source: VideoInfo | None, audio_path: str | Path | None) -> list[str]:
    """ffmpeg arguments taking input 0's video and the audio of `audio_source` (or of the file `audio_path`)."""
    shift: list[str] = []
    if audio_source is not None and audio_source.has_audio:
        audio_path, audio_codec = audio_source.path, audio_source.audio_codec
        if audio_source.video_start_s > 0:  # the sound started before the picture: frame 0 is the picture's start
            shift = ["-itsoffset", f"{-audio_source.video_start_s:.6f}"]
    else:
        audio_codec = None
    if audio_path is None:
        return []
    copy = audio_codec in _MP4_AUDIO_CODECS
    return [*shift, "-i", str(audio_path), "-map", "0:v:0", "-map", "1:a:0",
            *(["-c:a", "copy"] if copy else ["-c:a", "aac", "-b:a", "192k"])]


def add_audio(video_path: Path, audio_source: VideoInfo, output_path: Path) -> Path:
    """Remux a video-only mp4 with the audio of `audio_source` into `output_path`, video packets untouched.

    Published like a writer's file: under a temporary name until ffmpeg finished cleanly."""
    temp_path = _partial_path(output_path)
    command = [ffmpeg_executable(), "-nostdin", "-v", "error", "-y", "-i", str(video_path),
               *(_audio_arguments(audio_source, None) or ["-map", "0:v:0"]),
               "-c:v", "copy", "-movflags", "+faststart", "-f", "mp4", str(temp_path)]
    finished = subprocess.run(command, capture_output=True)
    if finished.returncode != 0:
        temp_path.unlink(missing_ok=True)
        raise VideoProcessingError(f"adding the audio failed: {finished.stderr.decode('utf-8', 'replace')[-600:]}")
    os.replace(temp_path, output_path)
    return output_path


def _partial_path(path: Path) -> Path:
    """Where a video is written until ffmpeg finished cleanly: hidden, beside its final name."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def stderr_tail(stderr_file, limit: int = 600) -> str:
    stderr_file.seek(0)
    text = stderr_file.read().decode("utf-8", "replace").strip()
    return text[-limit:]
