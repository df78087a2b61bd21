"""The realistic engine: Wan2.2-Animate in replace mode, regenerating the head (or the person) segment by segment.

Per swap segment: find and track the main face, pick the work region and working size, build the conditioning
at the generation rate, run the windows through the model (the `WindowSampler` the ComfyUI node supplies), bring
the result back to the source rate, and composite it into the original frames through the feathered region mask
with colour and light matching. Outside the mask every pixel is the source's own; hands and objects in front of
the face are cut out of it as in the fast engine; the segment edges cross-fade. The model renders turned heads
itself (it generates the avatar's head from the pose, it does not warp a frontal photo), so it has no turn fade.

The whole segment is held in memory as uint8 frames (a 5 s 1080p segment is about 0.9 GB): the model needs all
of it before the first frame can be written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from ..crossfade import edge_weight
from ..faces.blend import composite
from ..faces.detail import DetailMatcher, inner_face
from ..faces.features import feature_mask
from ..faces.landmarks import FaceAnalyzer, mesh_triangles
from ..faces.avatar_quality import AvatarQuality
from ..faces.main_face import checked_avatar, main_face_points
from ..faces.occlusion import OcclusionFinder, visible_face, visible_mask_frame
from ..faces.shading import follow_shading
from ..faces.skin_colour import ColourFollower
from ..faces.smoothing import LandmarkSmoother, smoothing_cutoff
from ..faces.target import is_a_face, picker_for
from ..faces.tracking import MainFaceTracker
from ..faces.warp import face_region, nondegenerate, triangle_index_map
from ..wan.conditioning import ExternalConditioning, avatar_reference, build_conditioning, region_masks
from ..wan.generation import WindowSampler, generate_segment
from ..wan.windows import Window, generated_position_for, generation_frame_count, plan_windows
from ..wan.work_region import MaskScope, WorkRegion, head_region, mask_region, person_region
from ..errors import UgcSwapError
from ..segment_plan import FrameRange
from ..video.shot_cuts import shot_starts
from .base import EngineSpec, SegmentStats, SwappedFrame, SwapSettings

_COLOUR_FOLLOW = 0.25


@dataclass(frozen=True)
class WanSettings:
    """The Wan-specific knobs an artist sees on the Wan node; defaults follow ComfyUI's Wan2.2-Animate template,
    but for one window per 5 s segment (81 frames at 16 fps against the template's 77, which takes two), which with
    4 distilled steps keeps the default job within $0.05 (docs/cost.md)."""

    mask_scope: MaskScope = "head"
    pixel_budget: int = 480 * 480
    generation_fps: float = 16.0
    window_length: int = 81
    motion_frames: int = 5
    seed: int = 0


@dataclass(frozen=True)
class WanAvatar:
    reference: np.ndarray  # RGB uint8: what WanAnimateToVideo gets as reference_image
    points: np.ndarray  # (468, 2) the avatar's face mesh: a frontal layout for the occlusion check
    quality: AvatarQuality


class TargetNotSupportedError(UgcSwapError):
    code = "target_not_supported"


class WanAnimateEngine:
    name = "wan"

    def __init__(self, sampler: WindowSampler, wan: WanSettings = WanSettings(),
                 on_window: Callable[[Window], None] = lambda w: None,
                 external: ExternalConditioning | None = None) -> None:
        self.sampler, self.wan, self.on_window, self.external = sampler, wan, on_window, external
        plan_windows(1, wan.window_length, wan.motion_frames)  # refuse bad window settings before any work

    def stage_seconds(self) -> dict[str, float]:
        """The model side's own breakdown, when the sampler keeps one (ComfyUI's does)."""
        return {f"wan_{k}": round(v, 3) for k, v in getattr(self.sampler, "timings_s", {}).items()}

    def prepare_avatar(self, avatar_rgb: np.ndarray, settings: SwapSettings) -> WanAvatar:
        mesh, quality = checked_avatar(avatar_rgb, settings.min_face_confidence)
        points = mesh[:, :2]
        return WanAvatar(avatar_reference(avatar_rgb, points, self.wan.mask_scope), points, quality)

    def swap_segment(self, avatar: WanAvatar, frames: Iterable[np.ndarray], segment: FrameRange, fps: Fraction,
                     settings: SwapSettings, stats: SegmentStats,
                     visible_masks: Iterator[np.ndarray] | None = None) -> Iterator[SwappedFrame]:
        if settings.target.mode == "all":
            raise TargetNotSupportedError("target 'all' runs on the fast engine; the Wan engine regenerates one "
                                          "person (target 'main' or 'reference')")
        source = list(frames)
        stats.frames += len(source)
        # Each shot is its own generation: its own work region and windows, no motion context across a cut.
        starts = shot_starts(source)
        stats.shots = len(starts)
        for start, end in zip(starts, [*starts[1:], len(source)]):
            yield from self._swap_shot(avatar, source[start:end], FrameRange(segment.start + start, segment.start + end),
                                       (start, len(source)), fps, settings, stats, visible_masks)

    def _swap_shot(self, avatar: WanAvatar, source: list[np.ndarray], shot: FrameRange, place: tuple[int, int],
                   fps: Fraction, settings: SwapSettings, stats: SegmentStats,
                   visible_masks: Iterator[np.ndarray] | None) -> Iterator[SwappedFrame]:
        """One shot of a segment (source frames `shot`; `place`: its first frame's index in the segment and the
        segment's length, for the fades at the segment's edges)."""
        points = _track_main_face(source, fps, settings)
        stats.frames_with_face += sum(p is not None for p in points)
        for _ in range(sum(p is None for p in points)):
            stats.skip("no_face")
        if all(p is None for p in points):
            for frame in source:
                if visible_masks is not None:
                    next(visible_masks)
                yield SwappedFrame(frame, None)
            return
        height, width = source[0].shape[:2]
        wired_masks = self.external.masks(shot, (width, height)) if self.external else None
        masks = wired_masks or region_masks(source, points, self.wan.mask_scope)
        region = (mask_region(wired_masks, (width, height), self.wan.pixel_budget) if wired_masks else None) or \
            self._region(points, (width, height))
        pose_frames = None
        if self.external is not None and self.external.pose_at is not None:
            external = self.external
            pose_frames = lambda i: external.frame(external.pose_at, shot.start + i, (width, height))  # noqa: E731
        generated_count = generation_frame_count(len(source), fps, Fraction(self.wan.generation_fps).limit_denominator(1000))
        conditioning = build_conditioning(source, points, masks, region, generated_count, avatar.reference, pose_frames)
        windows = plan_windows(generated_count, self.wan.window_length, self.wan.motion_frames)
        generated = generate_segment(self.sampler, conditioning, windows, self.wan.seed, self.on_window)
        yield from _composite_segment(source, masks, generated, region, settings, points, avatar.points, visible_masks,
                                      place)

    def _region(self, points: list[np.ndarray | None], frame_size: tuple[int, int]) -> WorkRegion:
        if self.wan.mask_scope == "head":
            region = head_region(points, frame_size, self.wan.pixel_budget)
            if region is not None:
                return region
        return person_region(frame_size, self.wan.pixel_budget)


def _track_main_face(frames: list[np.ndarray], fps: Fraction, settings: SwapSettings) -> list[np.ndarray | None]:
    height, width = frames[0].shape[:2]
    tracker = MainFaceTracker((width, height), picker_for(settings.target), is_a_face)
    smoother = LandmarkSmoother(float(fps), min_cutoff_hz=smoothing_cutoff(settings.smoothing))
    found: list[np.ndarray | None] = []
    with FaceAnalyzer(settings.min_face_confidence) as analyzer:
        for frame in frames:
            points = main_face_points(analyzer, tracker, frame)
            if points is None:
                smoother.reset()
            else:
                points = smoother(points[:, :2])
            found.append(points)
    return found


def _composite_segment(source: list[np.ndarray], masks: list[np.ndarray], generated: np.ndarray, region: WorkRegion,
                       settings: SwapSettings, points: list[np.ndarray | None], template_points: np.ndarray,
                       wired: Iterator[np.ndarray] | None, place: tuple[int, int]) -> Iterator[SwappedFrame]:
    """Each source frame of a shot with the generated region pasted back through its feathered mask (minus whatever
    is in front of the face, or an artist's wired-in mask), colour- and light-matched. `place`: the shot's first
    frame in its segment and the segment's length."""
    first, segment_length = place
    x0, y0, x1, y1 = region.box
    box_w, box_h = region.box_size
    feather = max(1.0, settings.feather * max(box_w, box_h) / 2)
    # The soft edge stays inside the mask: erode by the feather, then blur, so nothing outside it changes.
    shrink = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(2 * round(feather) + 1),) * 2)
    colour = ColourFollower(_COLOUR_FOLLOW)
    detail = DetailMatcher()
    with OcclusionFinder(template_points, mesh_triangles(), find_hands=settings.occlusion) as occlusion:
        for index, frame in enumerate(source):
            wired_mask = next(wired) if wired is not None else None
            mask = masks[index][y0:y1, x0:x1]
            if not mask.any():
                yield SwappedFrame(frame, None)
                continue
            low, high, t = generated_position_for(index, len(source), len(generated))
            made = generated[low] if t == 0 else cv2.addWeighted(generated[low], 1 - t, generated[high], t, 0)
            made = cv2.resize(made, (box_w, box_h), interpolation=cv2.INTER_CUBIC)
            patch = frame[y0:y1, x0:x1]
            hard = cv2.erode(mask, shrink)
            alpha = cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (0, 0), sigmaX=feather / 2) * (mask > 0)
            face = points[index]
            face_width = float(np.ptp(face[:, 0])) if face is not None else 0.0
            if wired_mask is not None:
                alpha = np.minimum(alpha, wired_mask[y0:y1, x0:x1].astype(np.float32) / 255.0)
            elif settings.occlusion and face is not None:
                alpha = visible_face(alpha, _occluders_in_box(occlusion, frame, face, region.box), face_width)
            shown = (alpha > 0.5).astype(np.float32)
            features = feature_mask(face, region.box) if face is not None else np.zeros(shown.shape, bool)
            skin = shown * ~features
            made = colour.match(patch, made, skin, skin, settings.colour_match)
            if face is not None:
                made = follow_shading(made, patch, skin, skin, face_width, settings.colour_match)
                # The model renders at its working size: its detail is matched to the footage's like the fast
                # engine's photo (no grain: a generated face moves its own texture).
                made = detail.match(made, patch, inner_face(shown, face_width), features, None, settings.detail_match)
            out = frame.copy()
            out[y0:y1, x0:x1] = composite(
                patch, made, alpha * settings.strength * edge_weight(first + index, segment_length, settings.crossfade_frames))
            yield SwappedFrame(out, visible_mask_frame(alpha, region.box, frame.shape[:2]))


def _occluders_in_box(occlusion: OcclusionFinder, frame: np.ndarray, points: np.ndarray,
                      box: tuple[int, int, int, int]) -> np.ndarray:
    """The occluders in front of the face, over the work region's box (the face lies inside it)."""
    height, width = frame.shape[:2]
    face = face_region(points, (width, height))
    triangles = mesh_triangles()
    index = triangle_index_map(points, triangles, nondegenerate(points, triangles), face)
    found = occlusion.occluders(frame, points, face, index)
    x0, y0, x1, y1 = box
    over_box = np.zeros((y1 - y0, x1 - x0), np.float32)
    fx0, fy0, fx1, fy1 = max(face[0], x0), max(face[1], y0), min(face[2], x1), min(face[3], y1)
    if fx1 > fx0 and fy1 > fy0:
        over_box[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0] = found[fy0 - face[1]:fy1 - face[1], fx0 - face[0]:fx1 - face[0]]
    return over_box


ENGINE = EngineSpec("wan", "Wan2.2-Animate replace mode on a GPU: regenerates the head, needs its ~28 GB of models",
                    "ugc_swap_wan.api.json")
