"""The Wan engine's own logic, without a model: windows, rates, work region, conditioning on real faces, compositing."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ugc_swap.core.engines.base import SegmentStats, SwapSettings
from ugc_swap.core.engines.wan_animate import WanAnimateEngine, WanSettings
from ugc_swap.core.faces.landmarks import FaceAnalyzer
from ugc_swap.core.sample_media import sample_face
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FrameReader
from ugc_swap.core.wan.conditioning import head_mask
from ugc_swap.core.wan.pose_render import PoseRenderer
from ugc_swap.core.wan.windows import (
    WindowPlanError,
    generated_position_for,
    generation_frame_count,
    plan_windows,
    source_index_for,
)
from ugc_swap.core.wan.work_region import head_region, working_size


@pytest.mark.parametrize("window_length, motion", [(5, 1), (9, 5), (77, 5), (81, 9)])
def test_windows_cover_every_frame_exactly_once(window_length, motion):
    for frames in range(1, 260):
        windows = plan_windows(frames, window_length, motion)
        covered = []
        for previous, window in zip([None, *windows], windows):
            assert (window.length - 1) % 4 == 0 and window.length <= window_length
            if previous is not None:
                assert window.context == motion and window.start == previous.end - motion
            covered += range(window.new_start, min(window.end, frames))
        assert covered == list(range(frames)), (frames, windows)
        assert windows[-1].end - frames < 4 + (motion if len(windows) > 1 else 0)


def test_window_settings_are_checked():
    for length, motion in [(6, 1), (77, 4), (9, 9), (3, 1)]:
        with pytest.raises(WindowPlanError):
            plan_windows(100, length, motion)


def test_generation_rate_round_trip():
    assert generation_frame_count(150, Fraction(30), Fraction(16)) == 80
    assert generation_frame_count(150, Fraction(30), Fraction(0)) == 150
    assert generation_frame_count(150, Fraction(24), Fraction(30)) == 150
    assert source_index_for(0, 150, 80) == 0 and source_index_for(79, 150, 80) == 149
    assert generated_position_for(149, 150, 80) == (79, 79, 0.0)
    low, high, t = generated_position_for(75, 150, 80)
    assert high == low + 1 and 0 <= t < 1


def test_working_size_follows_budget_and_aspect():
    for aspect in (1.0, 16 / 9, 9 / 16):
        width, height = working_size(aspect, 480 * 480)
        assert width % 16 == 0 and height % 16 == 0
        assert abs(width * height / (480 * 480) - 1) < 0.1 and abs(width / height / aspect - 1) < 0.1


@pytest.fixture(scope="module")
def segment(sample_video):
    info = probe_video(sample_video)
    return info, list(FrameReader(info, 0, 40))


@pytest.fixture(scope="module")
def segment_points(segment):
    info, frames = segment
    with FaceAnalyzer() as analyzer:
        return [analyzer.landmarks(f, analyzer.detect(f)[0].box)[:, :2] for f in frames]


def test_head_region_and_mask_land_on_the_face(segment, segment_points):
    info, frames = segment
    region = head_region(segment_points, (info.width, info.height), 480 * 480)
    x0, y0, x1, y1 = region.box
    assert (region.width, region.height) == (480, 480) and x1 - x0 == y1 - y0
    for points in segment_points:
        assert x0 <= points[:, 0].min() and points[:, 0].max() <= x1
        assert y0 <= points[:, 1].min() and points[:, 1].max() <= y1
        mask = head_mask(points, (info.width, info.height))
        nose = points[1].round().astype(int)
        assert mask[nose[1], nose[0]] == 255 and mask[0, 0] == 0
        above_brows = (int(points[10, 0]), int(points[10, 1] - 0.15 * np.ptp(points[:, 1])))
        assert mask[above_brows[1], above_brows[0]] == 255, "the mask must reach into the hair"


def test_pose_is_drawn_on_a_real_portrait():
    portrait = sample_face("astronaut")
    with PoseRenderer() as renderer:
        drawn = renderer.render(portrait)
    assert drawn.shape == portrait.shape and (drawn.sum(axis=2) > 0).mean() > 0.002


class RecordingSampler:
    """Stands in for the model (which cannot run in a unit test): flat magenta frames, requests recorded."""

    def __init__(self):
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        frames = np.zeros((request.window.length, request.height, request.width, 3), np.uint8)
        frames[...] = (255, 0, 255)
        return frames


def test_engine_changes_only_the_masked_head_and_keeps_the_frame_count(segment, avatar_png):
    import cv2

    info, frames = segment
    sampler = RecordingSampler()
    wan = WanSettings(pixel_budget=128 * 128, generation_fps=16, window_length=9, motion_frames=5)
    engine = WanAnimateEngine(sampler, wan)
    settings = SwapSettings(crossfade_frames=3, colour_match=0.0)
    avatar = engine.prepare_avatar(cv2.cvtColor(cv2.imread(str(avatar_png)), cv2.COLOR_BGR2RGB), settings)
    stats = SegmentStats()
    out = [f.image for f in engine.swap_segment(avatar, iter(frames), FrameRange(0, len(frames)), info.fps, settings, stats)]
    assert len(out) == len(frames) and stats.frames == len(frames) == stats.frames_with_face
    generated = generation_frame_count(len(frames), info.fps, Fraction(16))
    covered = sorted(i for r in sampler.requests for i in range(r.window.new_start, min(r.window.end, generated)))
    assert covered == list(range(generated))
    assert all(r.pose.shape[0] == r.window.length == r.mask.shape[0] for r in sampler.requests)
    assert all((r.continue_motion is None) == (r.window.index == 0) for r in sampler.requests)
    points = _points(frames)
    x0, y0, x1, y1 = engine._region(points, (info.width, info.height)).box
    near_head = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))  # slack for the engine's landmark smoothing
    for before, after, face in zip(frames, out, points):
        outside = np.ones(before.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert np.array_equal(before[outside], after[outside]), "pixels outside the work region changed"
        changed = np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 0
        head = cv2.dilate(head_mask(face, (info.width, info.height)), near_head) > 0
        assert not (changed & ~head).any(), "pixels outside the head mask changed"
    middle = len(frames) // 2
    changed = np.abs(out[middle].astype(int) - frames[middle].astype(int)).sum(axis=2) > 30
    assert changed[y0:y1, x0:x1].mean() > 0.05, "the head was not replaced"
    first = np.abs(out[0].astype(int) - frames[0].astype(int)).max()
    assert first < np.abs(out[middle].astype(int) - frames[middle].astype(int)).max(), "no cross-fade at the edge"


def _points(frames):
    with FaceAnalyzer() as analyzer:
        return [analyzer.landmarks(f, analyzer.detect(f)[0].box)[:, :2] for f in frames]


def test_conditioning_crops_the_filmed_face_and_blanks_the_mask(segment, segment_points):
    from ugc_swap.core.wan.conditioning import build_conditioning, region_masks

    info, frames = segment
    region = head_region(segment_points, (info.width, info.height), 128 * 128)
    masks = region_masks(frames, segment_points, "head")
    reference = sample_face("grace_hopper")
    built = build_conditioning(frames, segment_points, masks, region, 8, reference)
    assert built.pose.shape == (8, 128, 128, 3) and built.face.shape == (8, 512, 512, 3)
    assert built.reference.shape == (128, 128, 3)
    with FaceAnalyzer() as analyzer:
        for face in built.face[::3]:
            found = analyzer.detect(face)
            assert len(found) == 1, "the face video must show the filmed face"
            x0, y0, x1, y1 = found[0].box
            assert x1 - x0 > 200, "the face should fill the 512² crop"
    inside = built.mask > 0.5
    assert 0.1 < inside.mean() < 0.9
    assert (built.background[inside] == 0).all() and built.background[~inside].mean() > 20


class SolidPose:
    def __call__(self, index):
        return np.full((360, 640, 3), (0, 200, 0), np.uint8)


def test_wired_in_pose_and_mask_replace_the_automatic_ones(segment, avatar_png):
    import cv2

    from ugc_swap.core.wan.conditioning import ExternalConditioning

    info, frames = segment
    box_mask = np.zeros((info.height, info.width), np.float32)
    box_mask[60:200, 250:400] = 1.0
    external = ExternalConditioning(info.frame_count, pose_at=SolidPose(), mask_at=lambda i: box_mask)
    sampler = RecordingSampler()
    engine = WanAnimateEngine(sampler, WanSettings(pixel_budget=64 * 64, window_length=9), external=external)
    settings = SwapSettings(crossfade_frames=0, colour_match=0.0)
    avatar = engine.prepare_avatar(cv2.cvtColor(cv2.imread(str(avatar_png)), cv2.COLOR_BGR2RGB), settings)
    out = [f.image for f in engine.swap_segment(avatar, iter(frames[:10]), FrameRange(5, 15), info.fps, settings,
                                                SegmentStats())]
    assert (sampler.requests[0].pose[..., 1] == 200).all(), "the wired-in pose must reach the model"
    changed = np.abs(out[4].astype(int) - frames[4].astype(int)).max(axis=2) > 0
    assert changed[60:200, 250:400].mean() > 0.5 and not changed[:, :240].any() and not changed[210:].any()


def test_person_scope_regenerates_more_than_the_head(segment, avatar_png):
    import cv2

    info, frames = segment
    settings = SwapSettings(crossfade_frames=0, colour_match=0.0)
    changed_share = {}
    for scope in ("head", "person"):
        engine = WanAnimateEngine(RecordingSampler(), WanSettings(mask_scope=scope, pixel_budget=64 * 64, window_length=9))
        avatar = engine.prepare_avatar(cv2.cvtColor(cv2.imread(str(avatar_png)), cv2.COLOR_BGR2RGB), settings)
        out = [f.image for f in engine.swap_segment(avatar, iter(frames[:6]), FrameRange(0, 6), info.fps, settings,
                                                    SegmentStats())]
        changed = np.abs(out[3].astype(int) - frames[3].astype(int)).max(axis=2) > 0
        changed_share[scope] = changed.mean()
        assert not changed[:10, :10].any(), f"{scope}: a background corner changed"
    assert changed_share["person"] > 1.3 * changed_share["head"] > 0


def test_the_shipped_wan_defaults_make_one_window_per_5_s_segment_at_4_steps():
    """docs/cost.md's budget rests on these: 2 windows x 4 steps for the default job (two 5 s segments)."""
    import json
    from pathlib import Path

    graph = json.loads((Path(__file__).resolve().parent.parent / "workflows" / "ugc_swap_wan.api.json").read_text())
    (wan,) = [node["inputs"] for node in graph.values() if node["class_type"] == "UGCSwapWanReplace"]
    assert (wan["window_length"], wan["steps"]) == (WanSettings().window_length, 4)
    for source_fps in (Fraction(30), Fraction(25), Fraction(60), Fraction(30000, 1001)):
        frames = generation_frame_count(round(5 * source_fps), source_fps, Fraction(wan["generation_fps"]))
        assert len(plan_windows(frames, wan["window_length"], wan["motion_frames"])) == 1, source_fps
