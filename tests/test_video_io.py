import subprocess
import tracemalloc
import wave
from fractions import Fraction

import numpy as np
import pytest

from ugc_swap.core.errors import VideoInputError, VideoProcessingError
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import (
    INTERMEDIATE_ENCODE,
    RGB,
    YUV420,
    FrameReader,
    FrameWriter,
    ffmpeg_executable,
)

from .conftest import psnr
from .media_checks import audio_duration_s, video_stream_facts


def test_probe_reads_size_rate_frames_and_audio(sample_video):
    info = probe_video(sample_video)
    assert (info.width, info.height, info.fps, info.frame_count) == (640, 360, Fraction(30), 900)
    assert info.has_audio and info.audio_codec == "aac"
    assert not info.variable_frame_rate
    assert info.duration_s == pytest.approx(30.0)


def test_reader_yields_exact_frame_ranges(sample_video):
    info = probe_video(sample_video)
    middle = list(FrameReader(info, 450, 460))
    assert len(middle) == 10 and middle[0].shape == (360, 640, 3)
    again = list(FrameReader(info, 455, 456))
    assert np.array_equal(again[0], middle[5])


def test_yuv_frames_pass_through_a_lossless_encode_bit_for_bit(sample_video, tmp_path):
    # Stitching hands untouched frames from decoder to encoder as YUV planes; any colour conversion on the way
    # (an unlabelled input taken for BT.601, a range change) would show up here as changed samples.
    info = probe_video(sample_video)
    planes = list(FrameReader(info, 300, 310, YUV420))
    assert planes[0].shape == (540, 640)
    out = tmp_path / "lossless.mp4"
    with FrameWriter(out, info.width, info.height, info.fps, INTERMEDIATE_ENCODE, pixel_format=YUV420) as writer:
        for frame in planes:
            writer.write(frame)
    again = list(FrameReader(probe_video(out), 0, 10, YUV420))
    assert all(np.array_equal(a, b) for a, b in zip(planes, again))
    rgb_from_yuv_file = next(iter(FrameReader(probe_video(out), 0, 1, RGB)))
    assert psnr(rgb_from_yuv_file, next(iter(FrameReader(info, 300, 301)))) > 45


def test_reader_streams_with_bounded_memory(sample_video):
    info = probe_video(sample_video)
    tracemalloc.start()
    count = sum(1 for _ in FrameReader(info))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 900
    assert peak < 20 * 640 * 360 * 3, f"peak {peak} bytes: frames are being accumulated"


def test_writer_copies_audio_and_keeps_duration(sample_video, tmp_path):
    info = probe_video(sample_video)
    out = tmp_path / "copy.mp4"
    with FrameWriter(out, info.width, info.height, info.fps, audio_source=info) as writer:
        for frame in FrameReader(info):
            writer.write(frame)
    copy = probe_video(out)
    assert copy.frame_count == info.frame_count and copy.fps == info.fps
    assert audio_duration_s(out) == pytest.approx(audio_duration_s(sample_video), abs=0.05)
    first_in, first_out = next(iter(FrameReader(info, 0, 1))), next(iter(FrameReader(copy, 0, 1)))
    assert psnr(first_in, first_out) > 35


def test_failed_writer_leaves_no_file(tmp_path):
    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        with FrameWriter(out, 64, 64, Fraction(30)) as writer:
            writer.write(np.zeros((64, 64, 3), np.uint8))
            raise RuntimeError("job failed mid-way")
    assert list(tmp_path.iterdir()) == []


def test_variable_frame_rate_input_is_normalized(sample_video, tmp_path):
    vfr = tmp_path / "vfr.mp4"
    # First 3 s at 30 fps, then frames spaced as 15 fps: a typical phone clip that drops its rate in low light.
    subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(sample_video), "-t", "6",
                    "-vf", "setpts='if(lt(N,90),N/30,3+(N-90)/15)/TB'", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(vfr)], check=True)
    info = probe_video(vfr)
    assert info.variable_frame_rate
    frames = sum(1 for _ in FrameReader(info))
    assert frames == info.frame_count
    assert float(info.frame_count / info.fps) == pytest.approx(video_stream_facts(vfr)["duration_s"], abs=2 / float(info.fps))


def test_file_without_video_stream_is_refused(tmp_path):
    path = tmp_path / "audio_only.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)
    with pytest.raises(VideoInputError, match="no video stream"):
        probe_video(path)


def test_non_video_file_is_refused(tmp_path):
    path = tmp_path / "page.mp4"
    path.write_text("<html><body>404 Not Found</body></html>")
    with pytest.raises(VideoInputError, match="not a readable video"):
        probe_video(path)


def test_truncated_video_fails_loudly_instead_of_padding(sample_video, tmp_path):
    data = sample_video.read_bytes()
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(data[: len(data) // 3])
    info = probe_video(cut)
    with pytest.raises(VideoProcessingError, match="decoder stopped"):
        for _ in FrameReader(info):
            pass
