"""Swapped pixels written into the source's YUV planes: what changed is converted like ffmpeg would, the rest stays."""

from fractions import Fraction

import cv2
import numpy as np

from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import INTERMEDIATE_ENCODE, YUV420, FrameReader, FrameWriter
from ugc_swap.core.video.yuv_patch import changed_box, patch_yuv420, yuv420_to_rgb


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
    outside[41:99, 61:141] = False
    assert np.array_equal(luma[outside], src_luma[outside])  # not a level moved beside the edit, box or not
    chroma_outside = np.ones((90, 160), bool)
    chroma_outside[20:50, 30:71] = False  # samples any edited pixel falls in
    assert np.array_equal(chroma[:, chroma_outside], original[180:].reshape(2, 90, 160)[:, chroma_outside])
    assert np.array_equal(planes, original)  # the source planes were not written to


def test_planes_to_rgb_inverts_ffmpegs_bt709_and_round_trips(tmp_path):
    # Flat blocks of saturated and skin colours, put into BT.709 planes by ffmpeg (lossless).
    colours = [(230, 20, 20), (20, 200, 40), (30, 40, 220), (224, 172, 140), (120, 120, 120), (250, 240, 30)]
    rgb = np.zeros((64, 32 * len(colours), 3), np.uint8)
    for i, colour in enumerate(colours):
        rgb[:, 32 * i:32 * (i + 1)] = colour
    with FrameWriter(tmp_path / "c.mp4", rgb.shape[1], 64, Fraction(30), INTERMEDIATE_ENCODE) as writer:
        writer.write(rgb)
    planes = next(iter(FrameReader(probe_video(tmp_path / "c.mp4"), pixel_format=YUV420)))
    inner = (slice(8, 56), np.concatenate([np.arange(32 * i + 8, 32 * i + 24) for i in range(len(colours))]))
    mine = yuv420_to_rgb(planes, rgb.shape[1], 64)
    assert np.abs(mine[inner].astype(int) - rgb[inner]).max() <= 3
    bt601 = cv2.cvtColor(planes, cv2.COLOR_YUV2RGB_I420)
    assert np.abs(bt601[inner].astype(int) - rgb[inner]).max() > 10  # the wrong matrix would show
    # Every flat block taken to RGB and back (as if the engine had rewritten the whole frame) is within a level.
    back = patch_yuv420(planes, np.zeros_like(mine), mine)
    assert np.abs(back[:64][inner].astype(int) - planes[:64][inner]).max() <= 1
