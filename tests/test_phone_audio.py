"""Sound that does not start or end with the picture, as phones and editors write it, stays in sync: a click at a
known moment of the source is heard at the same picture frame in the result."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import ffmpeg_executable

RATE = 48000
CLICK_S = 2.0  # when the click sounds, in the source file's own time


def _click_track(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"aevalsrc='if(between(t,{CLICK_S},{CLICK_S + 0.05}),sin(2*PI*1000*t),0)':"
                                 f"s={RATE}:d={seconds}"]


def _click_time(path) -> float:
    """When the click sounds in `path`'s own time (its picture starts at 0 there)."""
    raw = subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                          "-ar", str(RATE), "-f", "f32le", "pipe:1"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.float32)
    start = probe_video(path)
    import av

    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        audio_start = float(audio.start_time * audio.time_base) if audio.start_time is not None else 0.0
    return audio_start - start.video_start_s + int(np.argmax(np.abs(samples) > 0.5)) / RATE


@pytest.mark.parametrize("name, picture_offset_s, sound_s", [
    ("the picture starts 0.5 s after the sound", 0.5, 4.0),
    ("the sound starts 0.7 s after the picture", -0.7, 3.0),
    ("the sound ends 1 s before the picture", 0.0, 3.0),
])
def test_the_sound_stays_with_its_picture(tmp_path, name, picture_offset_s, sound_s):
    base = write_sample_video(tmp_path / "base.mp4", SampleVideoSpec(320, 180, Fraction(30), 4.0, tone_hz=0.0))
    source = tmp_path / "phone.mp4"
    video_in = (["-itsoffset", str(picture_offset_s)] if picture_offset_s > 0 else []) + ["-i", str(base)]
    audio_in = (["-itsoffset", str(-picture_offset_s)] if picture_offset_s < 0 else []) + _click_track(sound_s)
    subprocess.run([ffmpeg_executable(), "-v", "error", "-y", *video_in, *audio_in, "-map", "0:v:0", "-map", "1:a:0",
                    "-c:v", "copy", "-c:a", "aac", str(source)], check=True)
    info = probe_video(source)
    assert info.video_start_s == pytest.approx(max(0.0, picture_offset_s), abs=0.03)
    heard_in_source = _click_time(source)
    planned = plan_video(source, "0-1 swap, 1-end keep")
    swapped = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), tmp_path / "clips", "a")
    result = stitch_video(swapped, tmp_path / "result.mp4").path
    assert _click_time(result) == pytest.approx(heard_in_source, abs=0.03), name
