"""The fast engine: the avatar's face warped onto the filmed face's mesh, frame by frame, on CPU.

Only Apache-2.0 mediapipe models are used. Per frame: detect faces, follow the main one, fit the mesh, smooth
it over time, warp the avatar onto it, match colour and the light across the face, cut out whatever is in front
of the face (hands, a product), fade to the filmed face as the head turns towards profile, and blend through a
feathered mask that leaves the filmed mouth interior in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..crossfade import edge_weight
from ..faces.avatar_levels import AvatarLevel, LevelChooser, avatar_levels
from ..faces.blend import ColourFollower, composite, face_mask
from ..faces.head_turn import TurnFade
from ..faces.landmarks import INNER_MOUTH, FaceAnalyzer, face_outline, mesh_triangles
from ..faces.main_face import avatar_face_points, main_face_points
from ..faces.occlusion import OcclusionFinder, visible_face, visible_mask_frame
from ..faces.shading import follow_shading
from ..faces.smoothing import LandmarkSmoother, smoothing_cutoff
from ..faces.tracking import MainFaceTracker
from ..faces.warp import Region, face_region, nondegenerate, triangle_index_map, warp_face
from ..segment_plan import FrameRange
from .base import EngineSpec, SegmentStats, SwappedFrame, SwapSettings

# How fast colour statistics follow the filmed face (per frame); low values avoid flicker.
_COLOUR_FOLLOW = 0.25
# Mask weights below this (half a level of 255) leave a pixel as filmed.
_NO_CHANGE = 0.5 / 255.0


@dataclass(frozen=True)
class LandmarkAvatar:
    levels: tuple[AvatarLevel, ...]  # the crop around the face and its mesh, at full size first, then halved


class FastLandmarkEngine:
    name = "fast"

    def stage_seconds(self) -> dict[str, float]:
        return {}  # one pass per frame: the swap's total says it all

    def prepare_avatar(self, avatar_rgb: np.ndarray, settings: SwapSettings) -> LandmarkAvatar:
        points = avatar_face_points(avatar_rgb, settings.min_face_confidence)
        x0, y0, x1, y1 = face_region(points, (avatar_rgb.shape[1], avatar_rgb.shape[0]), margin=0.1)
        return LandmarkAvatar(avatar_levels(np.ascontiguousarray(avatar_rgb[y0:y1, x0:x1]), points - (x0, y0)))

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
        triangles = mesh_triangles()
        outline_ids = np.array(face_outline())
        mouth_ids = np.array(INNER_MOUTH)
        smoother = LandmarkSmoother(float(fps), min_cutoff_hz=smoothing_cutoff(settings.smoothing))
        turn = TurnFade(settings.turn_limit)
        tracker: MainFaceTracker | None = None
        colour = ColourFollower(_COLOUR_FOLLOW)
        level_for = LevelChooser(avatar.levels)
        with FaceAnalyzer(settings.min_face_confidence) as analyzer, \
                OcclusionFinder(avatar.levels[0].points, triangles, find_hands=settings.occlusion) as occlusion:
            for index, frame in enumerate(frames):
                wired = next(visible_masks) if visible_masks is not None else None
                stats.frames += 1
                height, width = frame.shape[:2]
                tracker = tracker or MainFaceTracker((width, height))
                points = main_face_points(analyzer, tracker, frame)
                if points is None:
                    smoother.reset()
                    occlusion.reset()
                    turn.reset()
                    yield SwappedFrame(frame, None)
                    continue
                stats.frames_with_face += 1
                points = smoother(points)
                face_width = float(np.ptp(points[:, 0]))
                region = face_region(points, (width, height))
                mask = face_mask(
                    region,
                    points[outline_ids],
                    points[mouth_ids] if settings.keep_mouth else None,
                    settings.feather * face_width,
                )
                if wired is not None:
                    x0, y0, x1, y1 = region
                    mask = np.minimum(mask, wired[y0:y1, x0:x1].astype(np.float32) / 255.0)
                elif settings.occlusion:
                    mask = visible_face(mask, occlusion.occluders(frame, points, region), face_width)
                fades = settings.strength * edge_weight(index, segment.length, settings.crossfade_frames) * turn(points)
                out = frame.copy()
                box = _support(mask, region)
                if box is None:  # the whole face is cut out (an occluder covers it)
                    yield SwappedFrame(out, visible_mask_frame(mask, region, (height, width)))
                    continue
                # From here on only the pixels the swap can change are worked on.
                x0, y0, x1, y1 = box
                mask = mask[y0 - region[1]:y1 - region[1], x0 - region[0]:x1 - region[0]]
                triangle_index = triangle_index_map(points, triangles, nondegenerate(points, triangles), box)
                level = level_for(face_width)
                warped, covered = warp_face(level.image, level.points, points, triangles, box, triangle_index)
                mask = mask * covered
                patch = frame[y0:y1, x0:x1]
                face_pixels = (mask > 0.5).astype(np.float32)
                warped = colour.match(patch, warped, face_pixels, settings.colour_match)
                warped = follow_shading(warped, patch, face_pixels, face_width, settings.colour_match)
                out[y0:y1, x0:x1] = composite(patch, warped, mask * fades)
                yield SwappedFrame(out, visible_mask_frame(mask, box, (height, width)))


def _support(mask: np.ndarray, region: Region) -> Region | None:
    """The part of `region` where the mask can change a pixel, or None where it changes none.

    A weight below half a level in 255 moves no pixel of the composite and reads as 0 in the reported mask, so
    the margin around the face (a sixth of the region's width on each side) is left out of the warp, the colour
    work and the blend."""
    ys, xs = np.nonzero(mask.max(axis=1) >= _NO_CHANGE), np.nonzero(mask.max(axis=0) >= _NO_CHANGE)
    if ys[0].size == 0:
        return None
    x0, y0 = region[0], region[1]
    return (x0 + int(xs[0][0]), y0 + int(ys[0][0]), x0 + int(xs[0][-1]) + 1, y0 + int(ys[0][-1]) + 1)


ENGINE = EngineSpec("fast", "landmark warp of the avatar's face on CPU, seconds per segment",
                    "ugc_swap_fast.api.json", FastLandmarkEngine)
