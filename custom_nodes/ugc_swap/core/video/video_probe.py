"""What a video file holds, read from its container headers and packet timestamps without decoding it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import VideoInputError
from .colour_tags import player_matrix

# Timestamps whose spacing varies by more than this share of the mean mark the stream as variable frame rate.
_VFR_TOLERANCE = 0.15
_VFR_SAMPLE_PACKETS = 240
_REORDER_MARGIN = 16
# FFmpeg's AVColorTransferCharacteristic codes of the two HDR transfers, and AVCOL_RANGE_JPEG.
_HDR_TRANSFERS = {16: "pq", 18: "hlg"}
_FULL_RANGE = 2
_UNSPECIFIED_MATRIX = 2


@dataclass(frozen=True)
class VideoInfo:
    """Facts about one video file; `fps` is the constant rate every frame index of this project refers to."""

    path: str
    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration_s: float
    has_audio: bool
    audio_codec: str | None
    variable_frame_rate: bool
    rotation: int
    hdr_transfer: str | None = None  # "pq" or "hlg" for HDR footage (read as SDR: video/hdr.py), else None
    full_range: bool = False  # the samples use the full 0-255 (0-1023) range, not the broadcast one
    # The colour matrix a player assumes for a file that does not name one (video/colour_tags.py); None when the
    # file names its own.
    untagged_matrix: str | None = None
    video_bitrate: int | None = None  # bits/s of the video stream, as the container states or its samples add up to
    # How long after the file's zero the picture starts (an edit or a phone can start the sound first); frame 0
    # of this project is that moment, so the sound is shifted by as much to stay in sync.
    video_start_s: float = 0.0


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's size (as displayed, rotation applied), constant frame rate, frame count and audio."""
    import av  # ComfyUI already depends on PyAV; imported lazily so plan-only users don't pay for it

    path = str(path)
    if not Path(path).is_file():
        raise VideoInputError(f"video file not found: {path}")
    try:
        container = av.open(path)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoInputError(f"not a readable video file ({_reason(exc)})") from None
    with container:
        if not container.streams.video:
            raise VideoInputError("the file has no video stream")
        stream = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = stream.codec_context.width, stream.codec_context.height
        # Judged on the stored picture, as a decoder sees it, before any rotation.
        untagged_matrix = player_matrix(width, height) if stream.codec_context.colorspace == _UNSPECIFIED_MATRIX \
            else None
        if not width or not height:
            raise VideoInputError("the video stream has no picture size (corrupt or truncated file?)")
        duration_s = _duration_seconds(container, stream)
        timestamps, rotation = _scan_packets(container, stream)
        fps = _constant_rate(stream, timestamps, duration_s)
        if rotation in (90, 270):
            width, height = height, width
        frame_count = _frame_count(stream, fps, duration_s)
        return VideoInfo(
            path=path,
            width=width,
            height=height,
            fps=fps,
            frame_count=frame_count,
            duration_s=float(frame_count / fps),
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            variable_frame_rate=_is_variable(timestamps),
            rotation=rotation,
            hdr_transfer=_HDR_TRANSFERS.get(stream.codec_context.color_trc),
            full_range=stream.codec_context.color_range == _FULL_RANGE,
            untagged_matrix=untagged_matrix,
            video_bitrate=stream.bit_rate or None,
            video_start_s=_video_start(container, stream),
        )


def _reason(exc: Exception) -> str:
    """What FFmpeg says went wrong, without the file's path, error number or the internal call that failed:
    messages go to the customer."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return reason.lower() if reason else "unreadable data"


def pictures_end_s(path: str | Path) -> float:
    """When the last picture actually stored in the file ends, read from its packets (no decoding): shorter than
    the announced duration when a download or upload was cut off."""
    import av

    end = 0.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                if packet.pts is not None and packet.time_base:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    except (av.error.FFmpegError, IndexError):
        pass  # the end so far is the end
    return end


def _video_start(container, stream) -> float:
    """The picture's start against the earliest stream of the file (0 when it starts first or alone)."""
    starts = [float(s.start_time * s.time_base) for s in container.streams
              if s.type in ("video", "audio") and s.start_time is not None and s.time_base]
    if stream.start_time is None or not stream.time_base or not starts:
        return 0.0
    return max(0.0, round(float(stream.start_time * stream.time_base) - min(starts), 6))


def _duration_seconds(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    raise VideoInputError("the video has no duration (corrupt or truncated file?)")


def _scan_packets(container, stream) -> tuple[list[float], int]:
    """Timestamps of the first packets, and the display rotation read off the first decoded frame.

    Decoding one frame also proves the stream is decodable: a truncated file fails here, not mid-job.
    """
    import av

    times: list[float] = []
    rotation = None
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base:
                times.append(float(packet.pts * packet.time_base))
            if rotation is None:
                for frame in packet.decode():
                    rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                    break
            if len(times) >= _VFR_SAMPLE_PACKETS and rotation is not None:
                break
    except av.error.FFmpegError as exc:
        raise VideoInputError(f"the video stream cannot be decoded ({_reason(exc)})") from None
    if rotation is None:
        raise VideoInputError("no frame of the video stream could be decoded (corrupt or truncated file?)")
    return sorted(times), rotation


def _constant_rate(stream, timestamps: list[float], duration_s: float) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate and len(timestamps) > 1 and duration_s > 0:
        rate = Fraction(len(timestamps) - 1) / Fraction(timestamps[-1] - timestamps[0])
    if not rate or rate <= 0:
        raise VideoInputError("cannot tell the video's frame rate")
    # Snap 29.97-style rates to their NTSC fraction and everything else to a small denominator.
    return Fraction(rate).limit_denominator(1001)


def _frame_count(stream, fps: Fraction, duration_s: float) -> int:
    from_duration = int(round(duration_s * fps))
    if stream.frames and abs(stream.frames - from_duration) <= 1:
        return int(stream.frames)
    if from_duration <= 0:
        raise VideoInputError("the video has no frames")
    return from_duration


def _is_variable(timestamps: list[float]) -> bool:
    # Packets arrive in decode order: the last few sorted timestamps may still miss reordered B-frames.
    settled = timestamps[: max(0, len(timestamps) - _REORDER_MARGIN)]
    steps = [b - a for a, b in zip(settled, settled[1:]) if b > a]
    if len(steps) < 3:
        return False
    mean = sum(steps) / len(steps)
    return max(abs(s - mean) for s in steps) > _VFR_TOLERANCE * mean
