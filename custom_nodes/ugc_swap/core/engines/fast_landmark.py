"""The fast engine: the avatar's face warped onto the filmed face's mesh, frame by frame, on CPU.

Only Apache-2.0 mediapipe models are used. Per frame: detect faces, follow the main one, fit the mesh, smooth
it over time, warp the avatar onto it, match colour and light, and blend through a feathered mask that leaves
the filmed mouth interior in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..crossfade import edge_weight
from ..errors import AvatarImageError, AvatarMultipleFacesError, AvatarNoFaceError
from ..faces.blend import ColourStats, composite, face_mask, lab_stats, transfer_colour
from ..faces.landmarks import INNER_MOUTH, FaceAnalyzer, face_outline, mesh_triangles
from ..faces.smoothing import LandmarkSmoother, smoothing_cutoff
from ..faces.tracking import MainFaceTracker
from ..faces.warp import face_region, warp_face
from .base import SegmentStats, SwapSettings

MIN_AVATAR_FACE_PX = 64
# A second face counts as "another person" in the avatar photo when it is at least this share of the main face's width.
_SECOND_FACE_SHARE = 0.35
# How fast colour statistics follow the filmed face (per frame); low values avoid flicker.
_COLOUR_FOLLOW = 0.25


@dataclass(frozen=True)
class LandmarkAvatar:
    image: np.ndarray  # RGB uint8 crop around the face
    points: np.ndarray  # (468, 2) mesh points in crop pixels
    face_width: float


class FastLandmarkEngine:
    name = "fast"

    def prepare_avatar(self, avatar_rgb: np.ndarray, settings: SwapSettings) -> LandmarkAvatar:
        if avatar_rgb.ndim != 3 or avatar_rgb.shape[2] != 3 or avatar_rgb.dtype != np.uint8:
            raise AvatarImageError(f"avatar must be an RGB image, got array {avatar_rgb.shape} {avatar_rgb.dtype}")
        with FaceAnalyzer(settings.min_face_confidence) as analyzer:
            faces = sorted(analyzer.detect(avatar_rgb), key=lambda f: f.box[2] - f.box[0], reverse=True)
            if not faces:
                raise AvatarNoFaceError("no face found in the avatar photo; use a clear, front-facing photo of one person")
            main_width = faces[0].box[2] - faces[0].box[0]
            others = [f for f in faces[1:] if f.box[2] - f.box[0] >= _SECOND_FACE_SHARE * main_width]
            if others:
                raise AvatarMultipleFacesError(
                    f"the avatar photo shows {len(others) + 1} faces; it must show exactly one person"
                )
            if main_width < MIN_AVATAR_FACE_PX:
                raise AvatarNoFaceError(
                    f"the face in the avatar photo is only {main_width:.0f} px wide; at least {MIN_AVATAR_FACE_PX} px is needed"
                )
            points = analyzer.landmarks(avatar_rgb, faces[0].box)
        if points is None:
            raise AvatarNoFaceError("a face was detected in the avatar photo but its features could not be located")
        x0, y0, x1, y1 = face_region(points, (avatar_rgb.shape[1], avatar_rgb.shape[0]), margin=0.1)
        return LandmarkAvatar(
            image=np.ascontiguousarray(avatar_rgb[y0:y1, x0:x1]),
            points=points - (x0, y0),
            face_width=float(np.ptp(points[:, 0])),
        )

    def swap_segment(
        self,
        avatar: LandmarkAvatar,
        frames: Iterable[np.ndarray],
        segment_length: int,
        fps: Fraction,
        settings: SwapSettings,
        stats: SegmentStats,
    ) -> Iterator[np.ndarray]:
        triangles = mesh_triangles()
        outline_ids = np.array(face_outline())
        mouth_ids = np.array(INNER_MOUTH)
        smoother = LandmarkSmoother(float(fps), min_cutoff_hz=smoothing_cutoff(settings.smoothing))
        tracker: MainFaceTracker | None = None
        target_colour: ColourStats | None = None
        avatar_colour: ColourStats | None = None
        with FaceAnalyzer(settings.min_face_confidence) as analyzer:
            for index, frame in enumerate(frames):
                stats.frames += 1
                height, width = frame.shape[:2]
                tracker = tracker or MainFaceTracker((width, height))
                points = self._main_face_points(analyzer, tracker, frame)
                if points is None:
                    smoother.reset()
                    yield frame
                    continue
                stats.frames_with_face += 1
                face_width = float(np.ptp(points[:, 0]))
                points = smoother(points, face_width)
                region = face_region(points, (width, height))
                x0, y0, x1, y1 = region
                warped, covered = warp_face(avatar.image, avatar.points, points, triangles, region)
                mask = face_mask(
                    region,
                    points[outline_ids],
                    points[mouth_ids] if settings.keep_mouth else None,
                    settings.feather * face_width,
                ) * covered
                patch = frame[y0:y1, x0:x1]
                inner = (mask > 0.5).astype(np.float32)
                now_target, now_avatar = lab_stats(patch, inner), lab_stats(warped, inner)
                if now_target is not None and now_avatar is not None:
                    target_colour = now_target if target_colour is None else target_colour.blend_towards(now_target, _COLOUR_FOLLOW)
                    avatar_colour = now_avatar if avatar_colour is None else avatar_colour.blend_towards(now_avatar, _COLOUR_FOLLOW)
                if target_colour is not None and avatar_colour is not None:
                    warped = transfer_colour(warped, avatar_colour, target_colour, settings.colour_match)
                alpha = mask * (settings.strength * edge_weight(index, segment_length, settings.crossfade_frames))
                out = frame.copy()
                out[y0:y1, x0:x1] = composite(patch, warped, alpha)
                yield out

    @staticmethod
    def _main_face_points(analyzer: FaceAnalyzer, tracker: MainFaceTracker, frame: np.ndarray) -> np.ndarray | None:
        detections = analyzer.detect(frame)
        chosen = tracker.choose([(d.box, d.score) for d in detections])
        if chosen is not None:
            return analyzer.landmarks(frame, detections[chosen].box)
        coast = tracker.coast_box()
        points = analyzer.landmarks(frame, coast) if coast is not None else None
        if points is not None:
            tracker.found_by_coasting()
        return points
