"""The fast engine: the customer's face drawn on the filmed face's pose and expression, frame by frame, on CPU.

Only Apache-2.0 mediapipe models are used. Per frame: detect faces, follow the main one, fit the 3-D mesh, smooth
it over time, give it the avatar's proportions (face_shape.py) and let the head and background around follow the
new outline (surround.py), warp the avatar's face onto it, match colour and the light across the face, cut out
whatever is in front of the face (hands, a product), fade to the filmed face as the head turns towards profile,
and blend through a feathered mask that leaves the filmed mouth interior in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from ..crossfade import edge_weight
from ..faces.avatar_cleanup import avatar_maps, closed_lips
from ..faces.avatar_levels import GRAIN_CHANNEL, SKIN_CHANNEL, AvatarLevel, LevelChooser, avatar_levels
from ..faces.blend import composite, face_mask
from ..faces.detail import DetailMatcher, grain_from_channel, inner_face
from ..faces.face_shape import ShapeTransfer
from ..faces.face_lanes import AllFaces
from ..faces.features import feature_mask
from ..faces.head_turn import TurnFade
from ..faces.landmarks import INNER_MOUTH, FaceAnalyzer, face_outline, mesh_triangles
from ..faces.avatar_quality import AvatarQuality
from ..faces.main_face import MIN_FACE_PX, checked_avatar, main_face_points
from ..faces.occlusion import OCCLUDER_CUT, CoverFollower, OcclusionFinder, visible_face, visible_mask_frame
from ..faces.shading import follow_shading
from ..faces.skin_colour import ColourFollower
from ..faces.smoothing import LandmarkSmoother, smoothing_cutoff
from ..faces.surround import MARGIN, extended_meshes, surround_triangles
from ..faces.target import is_a_face, picker_for
from ..faces.tracking import MainFaceTracker, Picker
from ..faces.warp import MeshGrid, Region, face_region, mesh_grid, triangle_affines
from ..segment_plan import FrameRange
from ..video.shot_cuts import ShotCuts
from .base import EngineSpec, SegmentStats, SwappedFrame, SwapSettings

# How fast colour statistics follow the filmed face (per frame); low values avoid flicker.
_COLOUR_FOLLOW = 0.25
# Mask weights below this (half a level of 255) leave a pixel as filmed.
_NO_CHANGE = 0.5 / 255.0
# A reshaping that moves no point by more than this (px) is not worth warping the surroundings for.
_MIN_RESHAPE_PX = 0.3
_MARGIN = 0.15  # of the face size: the region worked on reaches this far beyond the mesh (and the warp's ring)
# A face that was last seen turned away or hidden and is not found now is taken to be still there, turned or hidden,
# for this long (frames); after that nobody is there.
_ABSENT_BY_DESIGN_FRAMES = 45


@dataclass(frozen=True)
class LandmarkAvatar:
    # The crop around the face (RGB, its face weight: 0 on hair, a brim, background; a skin grain pattern; its plain
    # skin) and its mesh, at full size first, then halved.
    levels: tuple[AvatarLevel, ...]
    points: np.ndarray  # (468, 3) the avatar's 3-D mesh in the crop's pixels
    quality: AvatarQuality


class FastLandmarkEngine:
    name = "fast"

    def stage_seconds(self) -> dict[str, float]:
        return {}  # one pass per frame: the swap's total says it all

    def prepare_avatar(self, avatar_rgb: np.ndarray, settings: SwapSettings) -> LandmarkAvatar:
        points, quality = checked_avatar(avatar_rgb, settings.min_face_confidence)
        x0, y0, x1, y1 = face_region(points[:, :2], (avatar_rgb.shape[1], avatar_rgb.shape[0]), margin=0.1)
        points = points - (x0, y0, 0.0)
        crop = closed_lips(np.ascontiguousarray(avatar_rgb[y0:y1, x0:x1]), points)
        maps = avatar_maps(crop, points)

        def as_channel(values: np.ndarray) -> np.ndarray:
            return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)

        grain = np.zeros(crop.shape[:2], np.uint8)  # drawn per level by avatar_levels
        channels = np.dstack([crop, as_channel(maps.face), grain, as_channel(maps.skin)])
        return LandmarkAvatar(avatar_levels(channels, points[:, :2]), points, quality)

    def swap_segment(
        self,
        avatar: LandmarkAvatar,
        frames: Iterable[np.ndarray],
        segment: FrameRange,
        fps: Fraction,
        settings: SwapSettings,
        stats: SegmentStats,
        visible_masks: Iterator[np.ndarray] | None = None,
    ) -> Iterator[SwappedFrame]:
        if settings.target.mode == "all":
            swap: _SegmentSwap | AllFaces = AllFaces(
                lambda pick: _SegmentSwap(avatar, segment, fps, settings, pick, detect_cuts=False),
                settings.min_face_confidence)
        else:
            swap = _SegmentSwap(avatar, segment, fps, settings)
        try:
            for index, frame in enumerate(frames):
                wired = next(visible_masks) if visible_masks is not None else None
                stats.frames += 1
                swapped = swap.frame(index, frame, wired)
                stats.frames_with_face += swapped.visible is not None
                if swap.skipped is not None:
                    stats.skip(swap.skipped, swap.face_px if swap.skipped == "too_small" else None)
                yield swapped
            stats.shots = swap.shots
        finally:
            swap.close()


class _SegmentSwap:
    """One swap segment's state (tracking, smoothing, colour, the face's resting shape) and the per-frame work."""

    def __init__(self, avatar: LandmarkAvatar, segment: FrameRange, fps: Fraction, settings: SwapSettings,
                 pick: Picker | None = None, detect_cuts: bool = True) -> None:
        """`pick`: how a new track chooses its face (default: the settings' target); `detect_cuts`: False where
        a lane of AllFaces is started afresh at each cut by its owner."""
        self.avatar, self.segment, self.settings = avatar, segment, settings
        self.pick = pick
        self.detect_cuts = detect_cuts
        self.triangles = mesh_triangles()
        self.all_triangles = np.vstack([self.triangles, surround_triangles()])
        self.outline_ids, self.mouth_ids = np.array(face_outline()), np.array(INNER_MOUTH)
        self.smoother = LandmarkSmoother(float(fps), min_cutoff_hz=smoothing_cutoff(settings.smoothing))
        self.turn = TurnFade(settings.turn_limit)
        self.tracker: MainFaceTracker | None = None
        self.colour = ColourFollower(_COLOUR_FOLLOW)
        self.detail = DetailMatcher()
        self.level_for = LevelChooser(avatar.levels)
        self.shape = ShapeTransfer(avatar.points)
        self.analyzer = FaceAnalyzer(settings.min_face_confidence)
        self.occlusion = OcclusionFinder(avatar.levels[0].points, self.triangles, find_hands=settings.occlusion)
        self.cover = CoverFollower()
        self.cuts = ShotCuts()
        self.shots = 1
        # Why the last frame was left unswapped (engines.base.SKIP_REASONS), None when it was swapped; and the face's
        # mesh width in it.
        self.skipped: str | None = None
        self.face_px = 0.0
        self._absent_reason, self._absent_frames = "no_face", 0

    def close(self) -> None:
        self.analyzer.close()
        self.occlusion.close()

    def _lost(self) -> None:
        for state in (self.smoother, self.occlusion, self.turn, self.shape, self.detail, self.colour, self.cover):
            state.reset()

    def _new_shot(self) -> None:
        """Nothing of the last shot carries over: which face is followed, its geometry, colour, light and detail
        statistics, what covered it, how far it was turned."""
        self.tracker = None
        self._lost()
        self._absent_reason, self._absent_frames = "no_face", 0
        self.shots += 1

    def _not_found(self) -> str:
        """Why no face was swapped in a frame where the tracked face was not found."""
        if self.cuts.in_transition:
            return "dissolve"
        self._absent_frames += 1
        return self._absent_reason if self._absent_frames <= _ABSENT_BY_DESIGN_FRAMES else "no_face"

    def frame(self, index: int, frame: np.ndarray, wired: np.ndarray | None) -> SwappedFrame:
        height, width = frame.shape[:2]
        if self.detect_cuts and self.cuts.new_shot(frame):
            self._new_shot()
        # A new tracker (a segment's or a shot's first frame) recognises its target from scratch.
        self.tracker = self.tracker or MainFaceTracker((width, height), self.pick or picker_for(self.settings.target),
                                                       is_a_face)
        mesh = main_face_points(self.analyzer, self.tracker, frame)
        self.face_px = float(np.ptp(mesh[:, 0])) if mesh is not None else 0.0
        if mesh is None or self.face_px < MIN_FACE_PX:
            self.skipped = self._not_found() if mesh is None else "too_small"
            self._lost()
            return SwappedFrame(frame, None)
        settings = self.settings
        filmed = self.smoother(mesh[:, :2])
        turn = self.turn(filmed)
        fades = settings.strength * edge_weight(index, self.segment.length, settings.crossfade_frames) * turn
        # One region for the whole frame's work: the face, and the ring its new outline may move the head in.
        region = face_region(filmed, (width, height), margin=_MARGIN + (MARGIN if settings.face_shape > 0 else 0.0))
        x0, y0, x1, y1 = region
        occluders = None
        if wired is None and settings.occlusion:
            occluders = self.occlusion.occluders(frame, filmed, region)
        cover = self.cover(occluders)
        self._absent_reason = "turned_away" if turn < 0.5 else "hidden" if cover > 0.5 else "no_face"
        self._absent_frames = 0
        points = filmed + self._reshape(mesh, filmed, fades * (1.0 - cover), wired)
        face_width = float(np.ptp(points[:, 0]))
        reshaping = float(np.abs(points - filmed).max()) >= _MIN_RESHAPE_PX
        if reshaping:
            source_mesh, target_mesh = extended_meshes(filmed, points, face_width)
            triangles = self.all_triangles
        else:
            source_mesh, target_mesh, triangles = filmed, points, self.triangles
        grid = mesh_grid(target_mesh, triangles, region, face_width)
        # The filmed frame as the reshaped face sees it: the filmed face (mouth interior, skin at the edge) and
        # the surroundings moved with the new outline; the identity outside the warp's outer ring.
        if reshaping:
            backdrop, map_x, map_y = _warped_backdrop(frame, source_mesh, target_mesh, triangles, grid)
        else:
            backdrop, map_x, map_y = frame[y0:y1, x0:x1], None, None
        mask = face_mask(region, points[self.outline_ids],
                         points[self.mouth_ids] if settings.keep_mouth else None, settings.feather * face_width)
        if wired is not None:
            mask = np.minimum(mask, wired[y0:y1, x0:x1].astype(np.float32) / 255.0)
        elif occluders is not None:
            moved = occluders
            if map_x is not None and occluders.any():  # found in the filmed frame: moved as the backdrop was
                moved = cv2.remap(occluders, map_x - x0, map_y - y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mask = visible_face(mask, moved, face_width)
        out = frame.copy()
        out[y0:y1, x0:x1] = backdrop
        box = _support(mask, region)
        if box is not None:
            bx0, by0, bx1, by1 = box
            inner = (slice(by0 - y0, by1 - y0), slice(bx0 - x0, bx1 - x0))
            mask = mask[inner]
            out[by0:by1, bx0:bx1], mask = self._paste(backdrop[inner], mask, points, grid, box, len(triangles),
                                                      face_width, fades)
            visible = visible_mask_frame(mask, box, (height, width))
        else:  # the whole face is cut out (an occluder covers it)
            visible = visible_mask_frame(mask, region, (height, width))
        if reshaping and occluders is not None and occluders.max() > OCCLUDER_CUT:
            # What stands in front of the face stays exactly as filmed, wherever the face behind it moved.
            keep = visible_face(np.ones_like(occluders), occluders, face_width)
            out[y0:y1, x0:x1] = composite(frame[y0:y1, x0:x1], out[y0:y1, x0:x1], keep)
        self.skipped = "turned_away" if turn <= 0.0 else "hidden" if box is None else None
        return SwappedFrame(out, visible)

    def _reshape(self, mesh: np.ndarray, filmed: np.ndarray, fades: float, wired: np.ndarray | None) -> np.ndarray:
        """How far each filmed mesh point moves to take the avatar's proportions, this frame.

        The shape fades in more slowly than the skin (squared fade), so a segment's first frames change little
        of the picture; an artist's mask that leaves the face out leaves its shape alone too."""
        weight = self.settings.face_shape * fades * fades
        if wired is not None:
            height, width = wired.shape
            xs = np.clip(np.round(filmed[:, 0]).astype(int), 0, width - 1)
            ys = np.clip(np.round(filmed[:, 1]).astype(int), 0, height - 1)
            weight *= float((wired[ys, xs] > 127).mean())
        return self.shape(mesh) * weight

    def _paste(self, patch: np.ndarray, mask: np.ndarray, points: np.ndarray, grid: MeshGrid, box: Region,
               triangle_count: int, face_width: float, fades: float) -> tuple[np.ndarray, np.ndarray]:
        """The avatar's face drawn, recoloured, relit, detail-matched and blended over `patch` (the backdrop over
        `box`); and the mask it showed through."""
        settings = self.settings
        level = self.level_for(face_width)
        warped = self._avatar_on(level, points, grid, box, triangle_count)
        mask = mask * grid.covered(box, below=len(self.triangles)) * (warped[..., 3].astype(np.float32) / 255.0)
        grain = grain_from_channel(warped[..., GRAIN_CHANNEL])
        pasted_skin = warped[..., SKIN_CHANNEL].astype(np.float32) / 255.0
        warped = np.ascontiguousarray(warped[..., :3])
        face_pixels = (mask > 0.5).astype(np.float32)
        features = feature_mask(points, box)
        filmed_skin = face_pixels * ~features
        pasted_skin *= face_pixels
        warped = self.colour.match(patch, warped, filmed_skin, pasted_skin, settings.colour_match)
        warped = follow_shading(warped, patch, pasted_skin, filmed_skin, face_width, settings.colour_match)
        warped = self.detail.match(warped, patch, inner_face(face_pixels, face_width), features, grain,
                                   settings.detail_match)
        return composite(patch, warped, mask * fades), mask

    def _avatar_on(self, level: AvatarLevel, points: np.ndarray, grid: MeshGrid, box: Region,
                   triangle_count: int) -> np.ndarray:
        """The avatar level drawn onto the face mesh `points` over `box` (all its channels)."""
        affines, _ = triangle_affines(level.points, points, self.triangles)
        if triangle_count > len(affines):  # the surround's rings are not part of the face
            rings = np.tile(np.array([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0]]), (triangle_count - len(affines), 1, 1))
            affines = np.concatenate([affines, rings])
        map_x, map_y = grid.maps(affines, box)
        return cv2.remap(level.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _warped_backdrop(frame: np.ndarray, source_mesh: np.ndarray, target_mesh: np.ndarray, triangles: np.ndarray,
                     grid: MeshGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame over the grid's region warped from the filmed extended mesh to the reshaped one (as filmed off
    the mesh), and the remap coordinates used (absolute frame pixels)."""
    affines, _ = triangle_affines(source_mesh, target_mesh, triangles)
    map_x, map_y = grid.maps(affines, identity_off_mesh=True)
    # Cubic: the warp moves most pixels by a fraction of a pixel, where bilinear sampling visibly softens hair.
    backdrop = cv2.remap(frame, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return backdrop, map_x, map_y


def _support(mask: np.ndarray, region: Region) -> Region | None:
    """The part of `region` where the mask can change a pixel, or None where it changes none.

    A weight below half a level in 255 moves no pixel of the composite and reads as 0 in the reported mask, so
    the margin around the face is left out of the warp, the colour work and the blend."""
    ys, xs = np.nonzero(mask.max(axis=1) >= _NO_CHANGE), np.nonzero(mask.max(axis=0) >= _NO_CHANGE)
    if ys[0].size == 0:
        return None
    x0, y0 = region[0], region[1]
    return (x0 + int(xs[0][0]), y0 + int(ys[0][0]), x0 + int(xs[0][-1]) + 1, y0 + int(ys[0][-1]) + 1)


ENGINE = EngineSpec("fast", "landmark warp of the avatar's face on CPU, seconds per segment",
                    "ugc_swap_fast.api.json", FastLandmarkEngine)
