"""Streaming video I/O through ffmpeg pipes: one frame in memory at a time, whatever the video's length.

Every reader decodes to the constant frame rate of `VideoInfo.fps`, so a variable-frame-rate phone clip is
normalized on the way in and frame index k always means time k / fps. Writers publish their file only when
ffmpeg finished cleanly (temp name, then rename), so a failed job never leaves a half-written video behind.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import VideoProcessingError
from .video_probe import VideoInfo

# Audio codecs the mp4 muxer takes as they are; anything else (PCM, Vorbis, ...) is re-encoded to AAC.
_MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"})


@dataclass(frozen=True)
class EncodeSettings:
    """x264 settings. Swapped clips are lossless (crf 0, full chroma): otherwise swapped frames would go through
    one lossy encode more than the untouched frames beside them, and the change of compression texture shows as a
    seam at every segment edge (measured: a 50 % jump in frame difference at the cut with crf 12)."""

    crf: int = 18
    preset: str = "veryfast"
    pix_fmt: str = "yuv420p"


FINAL_ENCODE = EncodeSettings(crf=18, preset="veryfast")
INTERMEDIATE_ENCODE = EncodeSettings(crf=0, preset="ultrafast", pix_fmt="yuv444p")
MASK_ENCODE = EncodeSettings(crf=0, preset="ultrafast", pix_fmt="gray")  # lossless: an edited mask comes back as is


def ffmpeg_executable() -> str:
    """The static ffmpeg shipped inside imageio-ffmpeg (libx264 included), unless UGC_SWAP_FFMPEG overrides it."""
    override = os.environ.get("UGC_SWAP_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _fps_arg(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


@dataclass
class FrameReader:
    """Yields RGB uint8 frames [start, end) of a video at its normalized constant frame rate.

    Exactly `end - start` frames come out: if the decoder stops a frame or two early (rounding of a
    variable-rate stream), the last frame is repeated and counted in `padded_frames`.
    """

    info: VideoInfo
    start: int = 0
    end: int | None = None
    padded_frames: int = field(default=0, init=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        end = self.info.frame_count if self.end is None else self.end
        if not 0 <= self.start <= end <= self.info.frame_count:
            raise ValueError(f"frame range {self.start}-{end} outside 0-{self.info.frame_count}")
        width, height = self.info.width, self.info.height
        frame_bytes = width * height * 3
        command = [
            ffmpeg_executable(), "-nostdin", "-v", "error", "-i", self.info.path,
            "-map", "0:v:0", "-vf", f"fps={_fps_arg(self.info.fps)}", "-frames:v", str(end),
            "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ]  # fmt: skip
        with tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, bufsize=frame_bytes)
            try:
                last = None
                for index in range(end):
                    raw = process.stdout.read(frame_bytes)
                    if len(raw) < frame_bytes:
                        break
                    if index >= self.start:
                        last = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
                        yield last
                else:
                    index = end
                missing = end - max(index, self.start)
                if missing > 0:
                    if last is None or missing > 2:
                        raise VideoProcessingError(
                            f"decoder stopped at frame {index} of {end}: {_tail(stderr) or 'no error output'}"
                        )
                    self.padded_frames = missing
                    for _ in range(missing):
                        yield last
            finally:
                process.kill()
                process.wait()


class FrameWriter:
    """Encodes RGB frames into an H.264 mp4, optionally copying the audio of `audio_source` through unchanged."""

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        settings: EncodeSettings = FINAL_ENCODE,
        audio_source: VideoInfo | None = None,
        audio_path: str | Path | None = None,
        gray: bool = False,
    ) -> None:
        """`audio_source` copies a video's audio track through; `audio_path` takes any audio file instead.
        `gray` takes (H, W) single-channel frames (masks): a third of the bytes through the pipe."""
        self.path = Path(path)
        self.frames_written = 0
        self._size = (width, height)
        self._shape = (height, width) if gray else (height, width, 3)
        self._temp_path = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        command = [
            ffmpeg_executable(), "-nostdin", "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "gray" if gray else "rgb24", "-s", f"{width}x{height}", "-r", _fps_arg(fps), "-i", "pipe:0",
        ]  # fmt: skip
        if audio_source is not None and audio_source.has_audio:
            audio_path, audio_codec = audio_source.path, audio_source.audio_codec
        else:
            audio_codec = None
        if audio_path is not None:
            command += ["-i", str(audio_path), "-map", "0:v:0", "-map", "1:a:0"]
            copy = audio_codec in _MP4_AUDIO_CODECS
            command += ["-c:a", "copy"] if copy else ["-c:a", "aac", "-b:a", "192k"]
        # A mask keeps its full 0-255 range (no colour matrix applies to one channel); pictures go to bt709 tv range.
        colour = ["-color_range", "pc"] if gray else [
            "-vf", "scale=out_color_matrix=bt709:out_range=tv",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        ]  # fmt: skip
        command += [
            "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf), *colour,
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
            raise VideoProcessingError(f"encoder stopped: {_tail(self._stderr)}") from None
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and publish it under its final name."""
        try:
            self._process.stdin.close()
        except BrokenPipeError:
            pass
        if self._process.wait() != 0:
            message = _tail(self._stderr)
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


def _tail(stderr_file, limit: int = 600) -> str:
    stderr_file.seek(0)
    text = stderr_file.read().decode("utf-8", "replace").strip()
    return text[-limit:]
