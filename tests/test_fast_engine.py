"""The fast engine's bookkeeping on real face photos (identity on real pairs: test_face_pairs.py)."""

from fractions import Fraction

import cv2
import numpy as np
import pytest

from ugc_swap.core.crossfade import edge_weight
from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.engines.base import SegmentStats
from ugc_swap.core.errors import AvatarMultipleFacesError, AvatarNoFaceError, UnknownEngineError
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader


SETTINGS = SwapSettings()


def swap_frames(frames, avatar_name, settings=SETTINGS):
    engine = get_engine("fast")
    avatar = engine.prepare_avatar(sample_face(avatar_name), settings)
    stats = SegmentStats()
    out = [f.image for f in engine.swap_segment(avatar, frames, FrameRange(0, len(frames)), Fraction(30), settings, stats)]
    return out, stats


def clip_frames(tmp_path, face, seconds=2.0, **spec):
    path = write_sample_video(tmp_path / f"{face}.mp4",
                              SampleVideoSpec(960, 540, Fraction(30), seconds, face=face, **spec))
    return list(FrameReader(probe_video(path)))


def test_main_face_is_followed_and_bystander_left_alone(tmp_path):
    frames = clip_frames(tmp_path, "astronaut", seconds=1.0, second_face="grace_hopper")
    swapped, stats = swap_frames(frames, "grace_hopper")
    assert stats.frames_with_face == len(frames)
    for before, after in zip(frames, swapped):
        bystander = (slice(0, 330), slice(700, 960))  # the small face on the right
        assert np.array_equal(before[bystander], after[bystander])
        assert not np.array_equal(before[:, :640], after[:, :640])


def test_frames_without_a_face_pass_through_unchanged_and_are_counted(tmp_path):
    frames = clip_frames(tmp_path, None, seconds=0.5)
    swapped, stats = swap_frames(frames, "grace_hopper")
    assert (stats.frames, stats.frames_with_face) == (len(frames), 0)
    assert all(np.array_equal(a, b) for a, b in zip(frames, swapped))


def test_swap_fades_in_at_segment_edges(tmp_path):
    frames = clip_frames(tmp_path, "astronaut", seconds=1.0)
    swapped, _ = swap_frames(frames, "grace_hopper", SwapSettings(crossfade_frames=8))
    change = [float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in zip(frames, swapped)]
    assert change[0] < change[4] < change[8]
    assert change[-1] < change[-5] < change[-9]


def test_edge_weight_rises_holds_and_falls():
    weights = [edge_weight(i, 20, 4) for i in range(20)]
    assert weights[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert weights[5:15] == [1.0] * 10
    assert weights[15:] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    assert edge_weight(3, 20, 0) == 1.0


def test_avatar_without_a_face_is_refused():
    with pytest.raises(AvatarNoFaceError) as caught:
        get_engine("fast").prepare_avatar(np.full((400, 400, 3), 128, np.uint8), SETTINGS)
    assert caught.value.code == "avatar_no_face"


def test_avatar_with_two_people_is_refused():
    left = sample_face("astronaut")
    right = cv2.resize(sample_face("grace_hopper"), (left.shape[0] * 512 // 600, left.shape[0]))
    with pytest.raises(AvatarMultipleFacesError, match="exactly one person"):
        get_engine("fast").prepare_avatar(np.hstack([left, right]), SETTINGS)


def test_unknown_engine_names_the_choices():
    with pytest.raises(UnknownEngineError, match="available: fast"):
        get_engine("deepfake9000")
