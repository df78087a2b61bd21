"""Who gets the customer's face: the main face of each shot, a reference person (from a photo or a moment of the
source) in every shot with everyone else left as filmed, or every face; and never a product the face detector
mistakes for a face."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np
import pytest

from driver.comfy_client import ComfyClient
from driver.swap_job import SwapJob, run_swap_job
from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.engines.base import FaceTarget, SegmentStats
from ugc_swap.core.engines.wan_animate import TargetNotSupportedError, WanAnimateEngine, WanSettings
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.faces.target import TargetFaceError, resolve_target, target_from_frame, target_from_photo
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader

from .edited_clip import Shot, edited_clip
from .face_set import face_photo
from .hard_shots import save_sheet
from .talking_portrait import portrait_around_face
from .test_wan_core import RecordingSampler

FPS = Fraction(30)
# A two-person shot, a cut to the other person alone (B-roll of someone else), the first person closer.
EDIT = (Shot("grace_hopper", 20, 0.55, 0.27, "rocket", second_person="astronaut"),
        Shot("astronaut", 16, 0.8, 0.5, "coffee"),
        Shot("grace_hopper", 16, 0.9, 0.5, "rocket"))


@pytest.fixture(scope="module")
def clip():
    frames = edited_clip(edit=EDIT).frames
    people = []  # per frame: {person: face box}
    with FaceAnalyzer() as analyzer:
        for frame, shot in zip(frames, [s for s, shot in enumerate(EDIT) for _ in range(shot.frames)]):
            boxes = sorted((d.box for d in analyzer.detect(frame)), key=lambda b: b[0])
            names = [EDIT[shot].person] if EDIT[shot].second_person is None else [EDIT[shot].person,
                                                                                  EDIT[shot].second_person]
            people.append(dict(zip(names, boxes)))
    return frames, people


def _swap(frames, target: FaceTarget):
    engine = get_engine("fast")
    settings = replace(SwapSettings(), target=target)
    avatar = engine.prepare_avatar(face_photo("dave"), settings)
    stats = SegmentStats()
    out = [f.image for f in engine.swap_segment(avatar, iter(frames), FrameRange(0, len(frames)), FPS, settings,
                                                 stats)]
    return out, stats


def _swapped_share(before, after, box) -> float:
    x0, y0, x1, y1 = (int(v) for v in box)
    return float((np.abs(after[y0:y1, x0:x1].astype(int) - before[y0:y1, x0:x1]).max(axis=2) > 12).mean())


def _who_was_swapped(frames, out, people, index) -> set[str]:
    return {name for name, box in people[index].items() if _swapped_share(frames[index], out[index], box) > 0.25}


MIDDLES = (10, 28, 44)  # a frame inside each shot, past the fade-in


def test_reference_from_a_moment_of_the_source_swaps_that_person_in_every_shot_and_nobody_else(clip):
    frames, people = clip
    target = target_from_frame(frames[44], 44 / 30)  # the close-up of the first person
    out, stats = _swap(frames, target)
    assert [_who_was_swapped(frames, out, people, i) for i in MIDDLES] == [{"grace_hopper"}, set(), {"grace_hopper"}]
    # Everyone else stays exactly as filmed, in the two-person shot and in the other person's own shot.
    for index in range(len(frames)):
        if "astronaut" in people[index]:
            assert _swapped_share(frames[index], out[index], people[index]["astronaut"]) == 0.0, index
    assert stats.skipped.get("no_face") == EDIT[1].frames  # the other person's shot: nobody to swap
    save_sheet("target_reference", [[frames[i], out[i]] for i in MIDDLES], ["source", "target: reference"])


def test_reference_from_a_photo_of_the_person(clip):
    frames, people = clip
    out, _ = _swap(frames[:20], target_from_photo(sample_face("astronaut")))
    assert _who_was_swapped(frames, out, people, 10) == {"astronaut"}


def test_main_takes_the_most_prominent_face_of_each_shot_and_all_takes_every_face(clip):
    frames, people = clip
    main, _ = _swap(frames, FaceTarget("main"))
    assert [len(_who_was_swapped(frames, main, people, i)) for i in MIDDLES] == [1, 1, 1]
    every, stats = _swap(frames, FaceTarget("all"))
    assert [_who_was_swapped(frames, every, people, i) for i in MIDDLES] == [
        {"grace_hopper", "astronaut"}, {"astronaut"}, {"grace_hopper"}]
    assert stats.shots == 3 and stats.covered == len(frames)
    save_sheet("target_all", [[frames[i], every[i]] for i in MIDDLES], ["source", "target: all"])


def test_six_small_faces_round_a_table_are_all_found_and_main_takes_one():
    # Faces ~65 px wide in a 720p frame: most of them too small for a whole-frame search of the detector.
    people = ["dave", "obama_3", "rihanna", "tom_cruise", "asian_elder", "dmitry"]
    table = np.zeros((720, 1280, 3), np.uint8)
    table[...] = (70, 70, 110)
    boxes = []
    for seat, person in enumerate(people):
        portrait = cv2.resize(portrait_around_face(face_photo(person)), (170, 170), interpolation=cv2.INTER_AREA)
        x, y = 30 + seat * 205, 300 + 40 * (seat % 2)
        table[y:y + 170, x:x + 170] = portrait
        boxes.append((x + 40, y + 30, x + 130, y + 130))
    frames = [table.copy() for _ in range(10)]
    for mode, swapped_faces in (("all", 6), ("main", 1)):
        engine = get_engine("fast")
        settings = replace(SwapSettings(crossfade_frames=0), target=FaceTarget(mode))
        avatar = engine.prepare_avatar(face_photo("biden"), settings)
        out = [f.image for f in engine.swap_segment(avatar, iter(frames), FrameRange(0, 10), FPS, settings,
                                                     SegmentStats())]
        shares = [_swapped_share(table, out[8], box) for box in boxes]
        assert sum(share > 0.1 for share in shares) == swapped_faces, (mode, [round(v, 2) for v in shares])
    save_sheet("target_all_table", [[table, out[8]]], ["six people", "target: main"])


def test_a_product_the_face_detector_takes_for_a_face_is_left_as_filmed():
    # The nose cone of this rocket reads as a face to mediapipe's detector (score ~0.7); a swap there would paste
    # the customer's face onto the product.
    frames = edited_clip(edit=(Shot(None, 8, 0.0, 0.5, "rocket"),)).frames
    with FaceAnalyzer() as analyzer:
        assert any(analyzer.detect(f) for f in frames), "the clip no longer fools the detector: pick another"
    for mode in ("main", "all"):
        out, stats = _swap(frames, FaceTarget(mode))
        assert all(np.array_equal(a, b) for a, b in zip(frames, out)), mode
        assert stats.skipped == {"no_face": len(frames)}


def test_a_reference_that_cannot_be_found_is_refused_with_its_reason(tmp_path):
    info = probe_video(write_sample_video(tmp_path / "faceless.mp4",
                                          SampleVideoSpec(320, 180, Fraction(30), 1.0, face=None)))
    with pytest.raises(TargetFaceError, match="no face at 0.5 s"):
        resolve_target("reference", None, 0.5, info)
    with pytest.raises(TargetFaceError, match="past the end"):
        resolve_target("reference", None, 3.0, info)
    with pytest.raises(TargetFaceError, match="needs the person to replace"):
        resolve_target("reference", None, -1.0, info)
    with pytest.raises(TargetFaceError, match="no face found in the photo"):
        target_from_photo(np.full((200, 200, 3), 128, np.uint8))
    assert resolve_target("all", None, -1.0, info) == FaceTarget("all")


def test_the_wan_engine_says_it_swaps_one_person():
    engine = WanAnimateEngine(RecordingSampler(), WanSettings(window_length=9))
    settings = replace(SwapSettings(), target=FaceTarget("all"))
    avatar = engine.prepare_avatar(sample_face("astronaut"), settings)
    with pytest.raises(TargetNotSupportedError, match="fast engine"):
        list(engine.swap_segment(avatar, iter([np.zeros((64, 64, 3), np.uint8)]), FrameRange(0, 1), FPS, settings,
                                 SegmentStats()))


def test_a_job_with_a_photo_of_the_person_to_replace_runs_through_comfyui(comfyui, tmp_path):
    # The sample video's bystander is the person to replace: the main face must stay as filmed.
    video = write_sample_video(tmp_path / "two.mp4", SampleVideoSpec(1280, 720, Fraction(30), 2.0, face="astronaut",
                                                                     second_face="grace_hopper"))
    photo = tmp_path / "target.png"
    cv2.imwrite(str(photo), cv2.cvtColor(sample_face("grace_hopper"), cv2.COLOR_RGB2BGR))
    avatar = tmp_path / "avatar.png"
    cv2.imwrite(str(avatar), cv2.cvtColor(face_photo("dave"), cv2.COLOR_RGB2BGR))
    job = SwapJob(video, avatar, "0-2 swap", options={"target": "reference"}, target_face_path=photo)
    outcome = run_swap_job(ComfyClient(comfyui.url), job, tmp_path / "out", timeout_s=600)
    before = list(FrameReader(probe_video(video), 30, 31))[0]
    after = list(FrameReader(probe_video(outcome.output_path), 30, 31))[0]
    with FaceAnalyzer() as analyzer:
        main, bystander = sorted(analyzer.detect(before), key=lambda d: d.box[0] - d.box[2])[:2]
    assert _swapped_share(before, after, bystander.box) > 0.25, "the person in the photo was not swapped"
    assert _swapped_share(before, after, main.box) < 0.02, "the main face was swapped, not the person in the photo"

