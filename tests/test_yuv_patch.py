"""Swapped pixels written into the source's YUV planes: what changed is converted like ffmpeg would, the rest stays."""

from fractions import Fraction

import numpy as np

from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video
from ugc_swap.core.video_probe import probe_video
from ugc_swap.core.video_stream import INTERMEDIATE_ENCODE, YUV420, FrameReader, FrameWriter
from ugc_swap.core.yuv_patch import changed_box, patch_yuv420


def test_only_the_changed_rectangle_is_converted_and_it_matches_ffmpeg(tmp_path):
    video = probe_video(write_sample_video(tmp_path / "v.mp4", SampleVideoSpec(320, 180, Fraction(30), 0.2)))
    rgb, planes = next(iter(FrameReader(video))), next(iter(FrameReader(video, pixel_format=YUV420)))
    assert patch_yuv420(planes, rgb, rgb.copy()) is planes and changed_box(rgb, rgb) is None
    edited = rgb.copy()
    edited[41:99, 61:141] = np.linspace(0, 255, 80, dtype=np.uint8)[None, :, None] * np.array([1, 0.5, 0.2])
    assert changed_box(rgb, edited) == (60, 40, 142, 100)  # widened to even edges for 4:2:0
    original = planes.copy()
    patched = patch_yuv420(planes, rgb, edited)
    # ffmpeg's own conversion of the edited frame, through a lossless clip, is the reference.
    with FrameWriter(tmp_path / "ref.mp4", 320, 180, video.fps, INTERMEDIATE_ENCODE) as writer:
        writer.write(edited)
    reference = next(iter(FrameReader(probe_video(tmp_path / "ref.mp4"), pixel_format=YUV420)))
    luma, ref_luma, src_luma = patched[:180], reference[:180], original[:180]
    assert np.abs(luma[41:99, 61:141].astype(int) - ref_luma[41:99, 61:141]).max() <= 2
    chroma = patched[180:].reshape(2, 90, 160)
    ref_chroma = reference[180:].reshape(2, 90, 160)
    assert np.abs(chroma[:, 21:49, 31:70].astype(int) - ref_chroma[:, 21:49, 31:70]).max() <= 3
    outside = np.ones((180, 320), bool)
    outside[40:100, 60:142] = False
    assert np.array_equal(luma[outside], src_luma[outside])  # not a level moved outside the edit
    assert np.array_equal(planes, original)  # the source planes were not written to
