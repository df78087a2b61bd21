"""Edited footage: hard cuts between framings and people, a shot with no face, a dissolve. Each shot is swapped on
its own: nothing of one shot's face geometry shows in another, and a face is swapped from the first frame it can
be (tests/edited_clip.py makes the clip and knows the truth about every frame)."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from driver.comfy_client import ComfyClient
from driver.swap_job import SwapJob, run_swap_job

from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.engines.base import SegmentStats
from ugc_swap.core.engines.wan_animate import WanAnimateEngine, WanSettings
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.video.shot_cuts import ShotCuts, shot_starts
from ugc_swap.core.video.video_stream import FINAL_ENCODE, FrameWriter

from .edited_clip import EDIT, Shot, edited_clip
from .face_set import face_photo
from .hard_shots import save_sheet
from .test_wan_core import RecordingSampler

FPS = Fraction(30)
AVATAR = "dave"  # neither of the filmed people


@pytest.fixture(scope="module")
def clip():
    return edited_clip()


@pytest.fixture(scope="module")
def face_boxes(clip):
    """Where the filmed face of each frame's own shot is (None in the shot without a face), from the source."""
    boxes = []
    with FaceAnalyzer() as analyzer:
        for frame, shot in zip(clip.frames, clip.shot_of_frame):
            found = analyzer.detect(frame) if EDIT[shot].person else []
            boxes.append(max((d.box for d in found), key=lambda b: b[2] - b[0]) if found else None)
    return boxes


def test_cuts_are_found_on_the_first_frame_of_each_shot_and_nowhere_else(clip):
    found = shot_starts(clip.frames)
    hard_cuts = [c for c in clip.cuts if not any(c in d for d in clip.dissolves)]
    dissolve = clip.dissolves[0]
    assert found[:-1] == [0, *hard_cuts], f"hard cuts at {hard_cuts}, found {found}"
    # A dissolve has no single first frame: the new shot starts once it stands alone, at most a frame later.
    assert dissolve.stop <= found[-1] <= dissolve.stop + 1, f"dissolve over {dissolve}, found {found[-1]}"


def test_camera_motion_and_talking_are_not_cuts():
    # One long shot: the camera pans, the person talks, blinks and turns; nothing in it is an edit.
    calm = edited_clip(edit=(Shot("grace_hopper", 90, 0.8, 0.45, "rocket"),))
    cuts = ShotCuts()
    assert [i for i, frame in enumerate(calm.frames) if cuts.new_shot(frame)] == []


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 12


def _grown(box, frame_shape, share=0.5) -> np.ndarray:
    # The detector's box is the inner face; the swap reaches the forehead and jaw, and the warp that lets the head
    # follow the new outline fades out a quarter of a face width beyond it.
    x0, y0, x1, y1 = box
    grow = share * (x1 - x0)
    inside = np.zeros(frame_shape[:2], bool)
    inside[max(0, int(y0 - grow)):int(y1 + grow), max(0, int(x0 - grow)):int(x1 + grow)] = True
    return inside


def test_fast_engine_starts_every_shot_afresh(clip, face_boxes):
    engine = get_engine("fast")
    settings = SwapSettings()
    avatar = engine.prepare_avatar(face_photo(AVATAR), settings)
    stats = SegmentStats()
    out = [f.image for f in engine.swap_segment(avatar, iter(clip.frames), FrameRange(0, len(clip.frames)), FPS,
                                                 settings, stats)]
    assert stats.shots == len(EDIT)
    mixed = {i for d in clip.dissolves for i in d}
    for index, (before, after, box) in enumerate(zip(clip.frames, out, face_boxes)):
        changed = _changed(before, after)
        if box is None:
            assert not changed.any(), f"frame {index}: a shot with no face was changed"
            continue
        allowed = _grown(box, before.shape)
        if index in mixed:  # both shots' faces are on screen
            previous = face_boxes[min(mixed) - 1]
            allowed |= _grown(previous, before.shape)
        stray = changed & ~allowed
        # Another shot's face geometry would move hundreds of pixels here; a few are the warp's faint edge.
        assert stray.sum() <= 50, f"frame {index}: {stray.sum()} pixels changed away from this shot's face"
    # From the first frame of every new shot (past the segment's own fade-in), the face is swapped.
    fade_in = settings.crossfade_frames
    for start in [*[c for c in clip.cuts if c not in mixed], max(mixed) + 2]:
        box = face_boxes[start]
        if box is None or start < fade_in:
            continue
        x0, y0, x1, y1 = (int(v) for v in box)
        share = _changed(clip.frames[start], out[start])[y0:y1, x0:x1].mean()
        assert share > 0.25, f"frame {start}, first of its shot: only {share:.0%} of the face swapped"
    rows = [[clip.frames[i] for i in range(c - 1, c + 3)] + [out[i] for i in range(c - 1, c + 3)]
            for c in clip.cuts]
    save_sheet("shot_cuts", rows, ["before cut", "first", "second", "third", "swapped: before", "first", "second",
                                   "third"])


def test_wan_engine_generates_each_shot_on_its_own(clip):
    sampler = RecordingSampler()
    engine = WanAnimateEngine(sampler, WanSettings(pixel_budget=96 * 96, generation_fps=16, window_length=9,
                                                   motion_frames=5))
    settings = SwapSettings(colour_match=0.0)
    avatar = engine.prepare_avatar(face_photo(AVATAR), settings)
    stats = SegmentStats()
    out = list(engine.swap_segment(avatar, iter(clip.frames), FrameRange(0, len(clip.frames)), FPS, settings, stats))
    assert len(out) == len(clip.frames) and stats.shots == len(EDIT)
    # A generation starts without motion context once per shot that shows a face, and never reaches across a cut.
    starts = [r for r in sampler.requests if r.continue_motion is None]
    assert len(starts) == sum(1 for shot in EDIT if shot.person)
    faceless = [i for i, s in enumerate(clip.shot_of_frame) if EDIT[s].person is None]
    assert all(out[i].visible is None and np.array_equal(out[i].image, clip.frames[i]) for i in faceless)


def test_an_edited_clip_through_comfyui_reports_its_shots_and_what_it_skipped(comfyui, clip, tmp_path):
    video = tmp_path / "edited.mp4"
    height, width = clip.frames[0].shape[:2]
    with FrameWriter(video, width, height, FPS, FINAL_ENCODE) as writer:
        for frame in clip.frames:
            writer.write(frame)
    avatar = tmp_path / "avatar.png"
    cv2.imwrite(str(avatar), cv2.cvtColor(face_photo(AVATAR), cv2.COLOR_RGB2BGR))
    outcome = run_swap_job(ComfyClient(comfyui.url), SwapJob(video, avatar, "0-end swap"), tmp_path / "out",
                           timeout_s=600)
    [segment] = outcome.quality["coverage"]["segments"]
    faceless = sum(shot.frames for shot in EDIT if shot.person is None)
    assert segment["shots"] == len(EDIT) and segment["skipped"].get("no_face", 0) >= faceless, segment
    assert segment["covered"] >= len(clip.frames) - faceless - 3, segment  # at most the dissolve's odd frames
    assert not outcome.quality["coverage"]["low"]
