"""Independent reads of output files (PyAV directly), so tests do not check the code with itself."""

from __future__ import annotations

from pathlib import Path

import av


def audio_duration_s(path: Path) -> float:
    """Length of the first audio stream, from its decoded samples."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def video_stream_facts(path: Path) -> dict:
    """Frame count, rate, size and duration of the first video stream, by decoding it."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [frame.time for frame in container.decode(stream)]
        rate = stream.average_rate
        return {
            "frames": len(times),
            "fps": float(rate),
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "duration_s": (times[-1] - times[0]) + 1 / float(rate),
        }
