"""The final video's size follows the source's own rate: a low-rate upload does not come back twice as large.

A source exported at a low rate (crf 30 here, as phones and editors often do) goes through both stitch paths: the
whole-video encode (a long-GOP source) and the copy path (1 s GOPs). The paint engine stands in for a face engine
(test_gop_copy.py): what is under test is the encode, not the swap.
"""

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.output_rate import RATE_HEADROOM, final_encode_for
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FINAL_ENCODE, ffmpeg_executable

from .conftest import psnr
from .test_gop_copy import PLAN, PaintEngine, copied_frames

SOURCE_CRF = 30


def _low_rate_source(folder: Path, keyframe_interval_s: float | None) -> Path:
    made = write_sample_video(folder / "made.mp4", SampleVideoSpec(1280, 720, Fraction(30), 8.0,
                                                                   keyframe_interval_s=keyframe_interval_s))
    keyint = ["-g", "30"] if keyframe_interval_s else []
    path = folder / "source.mp4"
    subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(made), "-c:v", "libx264", "-preset", "medium",
                    "-crf", str(SOURCE_CRF), *keyint, "-colorspace", "bt709", "-color_primaries", "bt709",
                    "-color_trc", "bt709", "-c:a", "copy", str(path)], check=True)
    return path


def _planes(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p") for f in container.decode(container.streams.video[0])]


@pytest.mark.parametrize("gop", ["long", "1s"])
def test_the_output_stays_within_1_3x_the_sources_size_and_keeps_its_look(gop, tmp_path):
    video = _low_rate_source(tmp_path, None if gop == "long" else 1.0)
    source = probe_video(video)
    assert source.video_bitrate and final_encode_for(source).max_bitrate == round(source.video_bitrate * RATE_HEADROOM)
    swapped = swap_segments(plan_video(video, PLAN), np.zeros((8, 8, 3), np.uint8), PaintEngine(), SwapSettings(),
                            tmp_path / "clips", "t")
    result = stitch_video(swapped, tmp_path / "out" / "result.mp4")
    assert (result.copied_frames > 0) == (gop == "1s")
    ratio = result.path.stat().st_size / video.stat().st_size
    before, after = _planes(video), _planes(result.path)
    copied = set(copied_frames(swapped))
    kept = [k for k in range(45, 240) if not 135 <= k < 165 and k not in copied]  # the re-encoded kept frames
    quality = float(np.median([psnr(after[k], before[k]) for k in kept]))
    print(f"{gop} GOP: output {ratio:.2f}x the source, kept frames {quality:.1f} dB")
    assert ratio <= 1.3
    assert quality >= 38.0

    if gop == "long":  # the same job at crf 18 alone, as before the cap: what the cap is there for
        uncapped = tmp_path / "uncapped.mp4"
        subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(video), "-c:v", "libx264", "-preset",
                        FINAL_ENCODE.preset, "-crf", str(FINAL_ENCODE.crf), "-c:a", "copy", str(uncapped)], check=True)
        print(f"crf 18 alone: {uncapped.stat().st_size / video.stat().st_size:.2f}x")
        assert uncapped.stat().st_size / video.stat().st_size > 1.5
