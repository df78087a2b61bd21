"""Only the face of the avatar photo: hair, a hat's brim and the photo's background kept out of the swap.

The mesh's face outline reaches up to the hairline whatever covers the forehead, so warping everything inside it
pastes a fringe, a hat brim or the photo's background onto the filmed forehead. The photo's own skin colour, learnt
from its cheeks, says which pixels inside the outline are face: above the nose, what is not skin (judged at a
scale where wrinkles and pores have gone) gets no weight in the swap, so the filmed face shows there. The eyes,
brows and lips are always the customer's, and so is the lower face: a beard is part of who they are. A second map
says which pixels are plain skin (no features, no beard): colour and light are matched on those alone.
(Glasses are the avatar gate's business: see avatar_quality.py.)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .features import feature_mask
from .landmarks import INNER_MOUTH, face_outline

# Mesh points around the middle of each cheek: the skin sample (no hair, glasses or beard there in most photos).
_CHEEKS = ((116, 117, 118, 119, 100, 126, 142, 203, 206, 216, 207, 187, 147, 123),
           (345, 346, 347, 348, 329, 355, 371, 423, 426, 436, 427, 411, 376, 352))
# A pixel is skin when its colour is within this many (floored) spreads of the cheeks' colour in Lab; lightness
# counts half, since light and shadow change it more than what the surface is.
_SKIN_DISTANCE = 3.0
_SPREAD_FLOOR = (14.0, 4.0, 4.0)
_LIGHTNESS_WEIGHT = 0.5
_COLOUR_BLUR = 0.015  # of the face width: skin is judged at a scale where wrinkles and pores disappear
_FEATHER = 0.025  # of the face width: how softly the hair line fades
_NOSE_TIP = 1


def _hull_mask(shape: tuple[int, int], points: np.ndarray, grow_px: int = 0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    if grow_px > 0:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1,) * 2))
    return mask.astype(bool)


def skin_distance(rgb: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Per pixel, how far its colour is from the sampled skin's (in floored spreads); NaN-free float32.

    Only darker counts against lightness: a shine on a forehead or a nose is brighter than the cheeks but skin,
    while hair, a brim or a shadowing fringe is darker."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    values = lab[sample]
    centre = np.median(values, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(values - centre), axis=0), _SPREAD_FLOOR)
    offsets = (lab - centre) / spread
    offsets[..., 0] = np.minimum(offsets[..., 0], 0.0) * np.sqrt(_LIGHTNESS_WEIGHT)
    return np.sqrt(np.square(offsets).sum(axis=2))


@dataclass(frozen=True)
class AvatarMaps:
    face: np.ndarray  # float32 0..1 per pixel: 1 where the photo shows the face, 0 on hair, a brim, background
    skin: np.ndarray  # float32 0..1: plain skin (no eyes, brows, lips, beard), for colour and light statistics


def closed_lips(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The photo with its mouth opening (teeth, tongue) painted over from the lips around it.

    A customer smiling with open lips has teeth where a filmed face with a closed mouth has the line between its
    lips: squeezed into that line they would show as a white sliver. Painted with the lips' own colour the line
    stays a mouth; when the filmed mouth opens, the filmed mouth interior shows there anyway (keep_mouth)."""
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[list(INNER_MOUTH), :2]).astype(np.int32)], 1)
    if not mask.any():
        return rgb
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    width = float(np.ptp(points[:, 0]))
    return cv2.inpaint(rgb, mask, max(2, round(0.03 * width)), cv2.INPAINT_TELEA)


def avatar_maps(rgb: np.ndarray, points: np.ndarray) -> AvatarMaps:
    """The face and skin maps of a photo with mesh `points` ((468, 2+))."""
    points = points[:, :2]
    shape = rgb.shape[:2]
    width = float(np.ptp(points[:, 0]))
    grow = max(1, round(0.02 * width))
    face = np.zeros(shape, np.uint8)
    cv2.fillPoly(face, [np.round(points[np.array(face_outline())]).astype(np.int32)], 1)
    face = face.astype(bool)
    cheeks = np.zeros(shape, bool)
    for ids in _CHEEKS:
        cheeks |= _hull_mask(shape, points[list(ids)])
    if cheeks.sum() < 20:
        return AvatarMaps(face.astype(np.float32), face.astype(np.float32))
    smooth = cv2.GaussianBlur(rgb, (0, 0), sigmaX=max(0.5, _COLOUR_BLUR * width))
    not_skin = skin_distance(smooth, cheeks) > _SKIN_DISTANCE
    opened = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    not_skin = cv2.morphologyEx(not_skin.astype(np.uint8), cv2.MORPH_OPEN, opened).astype(bool)
    features = feature_mask(points, (0, 0, shape[1], shape[0]))
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    lower_face = np.broadcast_to(rows > points[_NOSE_TIP, 1], shape)
    foreign = not_skin & face & ~features & ~lower_face
    sigma = max(1.0, _FEATHER * width)
    weight = cv2.GaussianBlur((face & ~foreign).astype(np.float32), (0, 0), sigmaX=sigma) * face
    skin = (face & ~not_skin & ~features).astype(np.float32)
    return AvatarMaps(weight.astype(np.float32), skin)
