"""A phone stores a portrait clip sideways with a rotation flag; the result is upright, every way round, and an
HDR one (HEVC Main10 HLG, as an iPhone records) too."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader, ffmpeg_executable

from bench.upload_kinds import rotation_flagged

from .conftest import psnr
from .hdr_clip import signal_from_sdr_photo, write_hdr_clip


def _stored_sideways(upright: np.ndarray, rotation: int) -> np.ndarray:
    """The picture as the file stores it when its flag says: turn me `rotation` degrees counter-clockwise."""
    return np.ascontiguousarray(np.rot90(upright, k=-rotation // 90))


def _faces(frame: np.ndarray) -> int:
    with FaceAnalyzer() as analyzer:
        return len(analyzer.detect(frame))


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_sideways_phone_clip_comes_out_upright(tmp_path, rotation):
    upright = write_sample_video(tmp_path / "upright.mp4", SampleVideoSpec(360, 640, Fraction(30), 2.0))
    frames = list(FrameReader(probe_video(upright)))
    stored = tmp_path / "stored.mp4"
    with_frames = [_stored_sideways(f, rotation) for f in frames]
    height, width = with_frames[0].shape[:2]
    subprocess.run([ffmpeg_executable(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{width}x{height}", "-r", "30", "-i", "pipe:0", "-c:v", "libx264", "-crf", "12",
                    "-pix_fmt", "yuv420p", str(stored)], input=b"".join(f.tobytes() for f in with_frames), check=True)
    phone = rotation_flagged(stored, rotation, tmp_path / "phone.mp4")
    info = probe_video(phone)
    assert (info.width, info.height, info.rotation) == (360, 640, rotation)
    shown = next(iter(FrameReader(info, 45, 46)))
    assert psnr(shown, frames[45]) > 30, "the reader does not show the clip upright"
    planned = plan_video(phone, "0-1 swap, 1-end keep")
    swapped = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), tmp_path / "c", "r")
    assert swapped.report.frames_with_face == 30, "the face was not found: the engine saw the clip sideways"
    result = stitch_video(swapped, tmp_path / "result.mp4").path
    out = probe_video(result)
    assert (out.width, out.height) == (360, 640)
    kept = next(iter(FrameReader(out, 45, 46)))
    assert psnr(kept, frames[45]) > 30, "the result is not upright"


def test_an_iphone_hdr_portrait_clip_comes_out_upright_and_sdr(tmp_path):
    face = cv2.resize(sample_face("grace_hopper"), (360, 640), interpolation=cv2.INTER_AREA)
    signal = signal_from_sdr_photo(_stored_sideways(face, 90), "hlg")
    stored = write_hdr_clip(tmp_path / "stored.mp4", signal, "hlg", seconds=1.0)
    phone = rotation_flagged(stored, 90, tmp_path / "phone.mp4")
    info = probe_video(phone)
    assert (info.width, info.height, info.rotation, info.hdr_transfer) == (360, 640, 90, "hlg")
    planned = plan_video(phone, "0-0.5 swap, 0.5-end keep")
    swapped = swap_segments(planned, sample_face("astronaut"), "fast", SwapSettings(), tmp_path / "c", "h")
    assert swapped.report.frames_with_face == 15
    result = stitch_video(swapped, tmp_path / "result.mp4").path
    kept = next(iter(FrameReader(probe_video(result), 20, 21)))
    assert kept.shape == (640, 360, 3) and _faces(kept) == 1
    with av.open(str(result)) as container:
        assert container.streams.video[0].codec_context.color_trc == 1  # BT.709
    # The photo's own SDR look comes back (within the operator's compression of its brightest parts).
    assert psnr(kept, face) > 24
