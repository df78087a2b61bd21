"""Everything WanAnimateToVideo is given for one swap segment, made without a human in the loop.

From the segment's frames and the tracked face mesh: the pose video (skeletons), the face video (512² crops of
the filmed face, whose expressions drive the avatar), the character mask (what the model regenerates), the
background video (the frames with that region blanked, as Wan's replace mode is trained on) and the reference
image (the avatar's head framed like the work region). All at the generation rate and the working size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import UgcSwapError
from ..faces.landmarks import face_outline
from ..segment_plan import FrameRange
from .pose_render import PoseRenderer
from .windows import source_index_for
from .work_region import MaskScope, WorkRegion

FACE_VIDEO_SIZE = 512
_FACE_CROP_SCALE = 1.4
# Hair: the head mask reaches this share of the face height above the brows, and is this much wider than the face.
_HAIR_RISE = 0.45
_HEAD_WIDEN = 1.15
_MASK_GROW = 0.04  # of the working size: the model needs room around the head to blend hair into background


@dataclass(frozen=True)
class ExternalConditioning:
    """Pose and/or mask an artist wired in from other nodes, for the whole video, frame for frame (RGB uint8
    pose frames, float 0..1 masks, any size: they are scaled to the frame). Either replaces the automatic one."""

    frame_count: int
    pose_at: Callable[[int], np.ndarray] | None = None
    mask_at: Callable[[int], np.ndarray] | None = None

    def frame(self, getter: Callable[[int], np.ndarray], index: int, frame_size: tuple[int, int]) -> np.ndarray:
        if not 0 <= index < self.frame_count:
            raise WanConditioningError(f"the wired-in video has {self.frame_count} frames; frame {index} is needed "
                                       "(it must cover the whole source video, frame for frame)")
        image = getter(index)
        return image if image.shape[1::-1] == frame_size else cv2.resize(image, frame_size, interpolation=cv2.INTER_LINEAR)

    def masks(self, segment: FrameRange, frame_size: tuple[int, int]) -> list[np.ndarray] | None:
        if self.mask_at is None:
            return None
        return [((self.frame(self.mask_at, i, frame_size) > 0.5) * 255).astype(np.uint8) for i in range(segment.start, segment.end)]


class WanConditioningError(UgcSwapError):
    code = "invalid_wan_conditioning"


@dataclass(frozen=True)
class SegmentConditioning:
    region: WorkRegion
    reference: np.ndarray  # (H, W, 3) uint8
    pose: np.ndarray  # (N, H, W, 3) uint8, N = generation frames
    face: np.ndarray  # (N, 512, 512, 3) uint8
    background: np.ndarray  # (N, H, W, 3) uint8
    mask: np.ndarray  # (N, H, W) float32, 1 = regenerate


def head_mask(points: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W) mask of face plus hair for one frame, from the 468-point mesh in frame pixels."""
    width, height = frame_size
    outline = points[np.array(face_outline())]
    centre = outline.mean(axis=0)
    face_h = float(np.ptp(outline[:, 1]))
    widened = (outline - centre) * (_HEAD_WIDEN, 1.0) + centre
    top = outline[:, 1].min()
    hair = np.array([(x, y - _HAIR_RISE * face_h * max(0.0, 1 - (y - top) / face_h)) for x, y in widened])
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(cv2.convexHull(np.vstack([widened, hair]).astype(np.float32))).astype(np.int32)], 255)
    return mask


def person_masks(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """uint8 masks of the person in each frame (mediapipe selfie segmentation, general model)."""
    from mediapipe.python.solutions import selfie_segmentation

    with selfie_segmentation.SelfieSegmentation(model_selection=0) as segmenter:
        return [((segmenter.process(np.ascontiguousarray(f)).segmentation_mask > 0.5) * 255).astype(np.uint8)
                for f in frames]


def region_masks(frames: Sequence[np.ndarray], points: Sequence[np.ndarray | None], scope: MaskScope) -> list[np.ndarray]:
    """One uint8 full-frame mask per source frame; empty where no face was found (that frame stays as filmed)."""
    height, width = frames[0].shape[:2]
    empty = np.zeros((height, width), np.uint8)
    if scope == "person":
        return [mask if p is not None else empty for mask, p in zip(person_masks(frames), points)]
    return [head_mask(p, (width, height)) if p is not None else empty for p in points]


def build_conditioning(
    frames: Sequence[np.ndarray],
    points: Sequence[np.ndarray | None],
    masks: Sequence[np.ndarray],
    region: WorkRegion,
    generated_frames: int,
    reference: np.ndarray,
    pose_frames: Callable[[int], np.ndarray] | None = None,
) -> SegmentConditioning:
    """`pose_frames(i)`, when given, is the full-frame pose image for segment frame i (instead of our renderer)."""
    x0, y0, x1, y1 = region.box
    size = (region.width, region.height)
    grow = max(1, int(round(_MASK_GROW * max(size))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    pose, face, background, mask = [], [], [], []
    last_face_box = _face_box(next(p for p in points if p is not None), frames[0].shape)
    with PoseRenderer() as renderer:
        for index in range(generated_frames):
            source = source_index_for(index, len(frames), generated_frames)
            crop = cv2.resize(frames[source][y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
            region_mask = cv2.resize(masks[source][y0:y1, x0:x1], size, interpolation=cv2.INTER_NEAREST)
            region_mask = cv2.dilate(region_mask, kernel)
            if pose_frames is None:
                pose.append(renderer.render(crop))
            else:
                pose.append(cv2.resize(pose_frames(source)[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA))
            if points[source] is not None:
                last_face_box = _face_box(points[source], frames[source].shape)
            fx0, fy0, fx1, fy1 = last_face_box
            face.append(cv2.resize(frames[source][fy0:fy1, fx0:fx1], (FACE_VIDEO_SIZE,) * 2, interpolation=cv2.INTER_AREA))
            background.append(np.where(region_mask[..., None] > 0, 0, crop).astype(np.uint8))
            mask.append(region_mask.astype(np.float32) / 255.0)
    return SegmentConditioning(region, cv2.resize(reference, size, interpolation=cv2.INTER_AREA), np.stack(pose),
                               np.stack(face), np.stack(background), np.stack(mask))


def avatar_reference(avatar_rgb: np.ndarray, points: np.ndarray, scope: MaskScope) -> np.ndarray:
    """The avatar framed like the work region: the head in a square for `head`, the whole photo for `person`."""
    if scope == "person":
        return avatar_rgb
    from .work_region import head_region

    height, width = avatar_rgb.shape[:2]
    region = head_region([points], (width, height), pixel_budget=256 * 256)
    assert region is not None
    x0, y0, x1, y1 = region.box
    return np.ascontiguousarray(avatar_rgb[y0:y1, x0:x1])


def _face_box(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A square around the face (clamped to the frame) for the 512² face video."""
    height, width = shape[:2]
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    side = min(max(x1 - x0, y1 - y0) * _FACE_CROP_SCALE, width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return left, top, left + int(round(side)), top + int(round(side))
