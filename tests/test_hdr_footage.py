"""Phone HDR footage (HEVC Main10, HLG or PQ, BT.2020) comes out as SDR BT.709 that looks as it did: colour
patches of known signal value against the documented operator (video/hdr.py), through the real decode, swap,
stitch and H.264 encode; and the customer's face keeps the avatar's skin."""

from __future__ import annotations


import av
import cv2
import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, xyz2lab

from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import sample_face
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments
from ugc_swap.core.video.hdr import hlg_to_nits, nits_to_pq, pq_to_nits, sdr_from_hdr
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader

from .face_set import face_photo
from .hdr_clip import PATCHES, patch_centres, patch_frame, signal_from_sdr_photo, write_hdr_clip
from .talking_portrait import portrait_around_face

_BT709_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])


def delta_e(sdr_a: np.ndarray, sdr_b: np.ndarray) -> np.ndarray:
    """CIEDE2000 between SDR BT.709 R'G'B' values (0..1) as a BT.1886 display shows them."""
    def lab(values):
        return xyz2lab(np.power(np.clip(values, 0, 1), 2.4) @ _BT709_TO_XYZ.T)

    return deltaE_ciede2000(lab(sdr_a), lab(sdr_b))


def patch_values(frame: np.ndarray) -> np.ndarray:
    return np.array([frame[y - 8:y + 8, x - 8:x + 8].reshape(-1, 3).mean(axis=0) / 255 for y, x in patch_centres()])


def test_the_operator_meets_the_standards_anchor_points():
    assert pq_to_nits(np.array(0.5081)) == pytest.approx(100.0, abs=0.1)  # ST 2084
    assert hlg_to_nits(np.full(3, 0.75))[0] == pytest.approx(203.0, abs=0.5)  # BT.2408: HLG reference white
    # The same light shows the same in SDR whichever transfer carried it; reference white just below SDR white.
    hlg_white, pq_white = sdr_from_hdr(np.full(3, 0.75), "hlg"), sdr_from_hdr(np.full(3, nits_to_pq(203.0)), "pq")
    assert hlg_white == pytest.approx(pq_white, abs=0.002) and 0.85 < hlg_white[0] < 0.95
    greys = sdr_from_hdr(np.linspace(0, 1, 50)[:, None].repeat(3, axis=1), "pq")[:, 0]
    assert greys[0] == 0.0 and greys[-1] == 1.0 and np.all(np.diff(greys) >= 0)
    # Below ~100 cd/m2 (skin, mid-tones) nothing is compressed: BT.2020 grey 50 cd/m2 = SDR (50/203)^(1/2.4).
    assert sdr_from_hdr(np.full(3, nits_to_pq(50.0)), "pq")[0] == pytest.approx((50 / 203) ** (1 / 2.4), abs=0.002)


@pytest.mark.parametrize("transfer", ["hlg", "pq"])
@pytest.mark.parametrize("chroma", ["420", "422", "444"])
def test_every_reader_of_an_hdr_source_sees_it_converted(tmp_path, transfer, chroma):
    clip = write_hdr_clip(tmp_path / "patches.mp4", patch_frame(), transfer, chroma, seconds=0.2)
    info = probe_video(clip)
    assert info.hdr_transfer == transfer
    frame = next(iter(FrameReader(info, 0, 1)))
    errors = delta_e(patch_values(frame), sdr_from_hdr(PATCHES, transfer))
    assert errors.max() <= 3.0, errors.round(2)


@pytest.mark.parametrize("transfer", ["hlg", "pq"])
def test_a_job_on_hdr_footage_keeps_its_colours_and_the_customers_skin(tmp_path, transfer):
    face = portrait_around_face(sample_face("grace_hopper"))
    signal = patch_frame(signal_from_sdr_photo(cv2.resize(face, (400, 400), interpolation=cv2.INTER_AREA), transfer))
    clip = write_hdr_clip(tmp_path / "phone.mp4", signal, transfer, "420", seconds=2.0)
    avatar = face_photo("dave")
    planned = plan_video(clip, "0-1 swap, 1-end keep")
    # colour_match 0: the avatar's own skin is drawn, so it can be compared with the photo.
    swapped = swap_segments(planned, avatar, "fast", SwapSettings(colour_match=0.0), tmp_path / "clips", "h")
    result = stitch_video(swapped, tmp_path / "result.mp4")
    with av.open(str(result.path)) as container:
        context = container.streams.video[0].codec_context
        assert (context.name, context.color_primaries, context.color_trc, context.colorspace) == ("h264", 1, 1, 1)
    frames = list(FrameReader(probe_video(result.path)))
    kept_errors = delta_e(patch_values(frames[45]), sdr_from_hdr(PATCHES, transfer))
    assert kept_errors.max() <= 3.0, kept_errors.round(2)
    with FaceAnalyzer() as analyzer:
        swapped_mesh = analyzer.landmarks(frames[20], analyzer.detect(frames[20])[0].box)
        avatar_mesh = analyzer.landmarks(avatar, analyzer.detect(avatar)[0].box)
    skin_errors = delta_e(_cheeks(frames[20], swapped_mesh), _cheeks(avatar, avatar_mesh))
    assert skin_errors.max() <= 3.0, skin_errors.round(2)


def _cheeks(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """Mean colour of four cheek spots (mesh points on both cheekbones and below them), 0..1."""
    side = max(2, int(np.ptp(mesh[:, 0]) * 0.03))
    spots = []
    for point in (50, 280, 205, 425):
        x, y = mesh[point, :2].astype(int)
        spots.append(image[y - side:y + side, x - side:x + side].reshape(-1, 3).mean(axis=0) / 255)
    return np.array(spots)
