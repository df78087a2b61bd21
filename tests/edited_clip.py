"""An edited product demo made from real photos: shots of different framings and people joined by hard cuts and
one dissolve, with the truth about every frame (which shot, whose face, where the cuts are).

Each shot is a talking portrait (talking_portrait.py) framed over a panning real photo: the camera moves inside a
shot (so a cut detector must tell motion from an edit) and every shot starts mid-sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ugc_swap.core.sample_media import sample_face

from .talking_portrait import TalkingPortrait, portrait_around_face


@dataclass(frozen=True)
class Shot:
    person: str | None  # None: a shot with no face (B-roll of the product)
    frames: int
    face_height: float  # share of the frame height the portrait fills
    centre_x: float  # where the portrait sits, share of the frame width
    background: str  # which photo the camera pans over
    dissolve_in: int = 0  # frames of cross-dissolve from the previous shot
    pan_px: float = 2.0  # how fast the camera pans, px per frame at 640 px wide
    second_person: str | None = None  # someone else in the shot, at the other side of the frame


# Cuts between framings of one person, to another person, to a shot with no face, and a dissolve.
EDIT = (
    Shot("grace_hopper", 24, 0.70, 0.42, "rocket"),
    Shot("grace_hopper", 20, 1.00, 0.58, "rocket"),  # same person, closer
    Shot("astronaut", 20, 0.45, 0.62, "coffee"),  # another person, smaller framing
    Shot(None, 14, 0.0, 0.5, "coffee"),  # the product alone
    Shot("grace_hopper", 22, 0.65, 0.40, "rocket"),
    Shot("astronaut", 24, 0.80, 0.55, "coffee", dissolve_in=8),
)


@dataclass(frozen=True)
class EditedClip:
    frames: list[np.ndarray]
    shot_of_frame: list[int]  # index into EDIT; during a dissolve, the incoming shot
    cuts: list[int]  # first frame of every shot after the first (for a dissolve: its first mixed frame)
    dissolves: list[range]  # the mixed frames of each dissolve


def edited_clip(width: int = 640, height: int = 360, edit: tuple[Shot, ...] = EDIT) -> EditedClip:
    frames: list[np.ndarray] = []
    shot_of_frame: list[int] = []
    cuts: list[int] = []
    dissolves: list[range] = []
    for number, shot in enumerate(edit):
        # A dissolve mixes the incoming shot's first frames over the last frames of the previous one.
        shot_frames = [_shot_frame(shot, i, width, height) for i in range(shot.dissolve_in + shot.frames)]
        if number:
            cuts.append(len(frames) - shot.dissolve_in)
        if shot.dissolve_in:
            mixed = range(len(frames) - shot.dissolve_in, len(frames))
            for step, index in enumerate(mixed):
                weight = (step + 1) / (shot.dissolve_in + 1)
                frames[index] = cv2.addWeighted(frames[index], 1 - weight, shot_frames[step], weight, 0)
                shot_of_frame[index] = number
            dissolves.append(mixed)
            shot_frames = shot_frames[shot.dissolve_in:]
        frames.extend(shot_frames)
        shot_of_frame.extend([number] * shot.frames)
    return EditedClip(frames, shot_of_frame, cuts, dissolves)


def _shot_frame(shot: Shot, index: int, width: int, height: int) -> np.ndarray:
    t = (index + 40) / 30.0  # mid-sentence
    # The camera pans across the background photo and drifts towards the subject: motion, not an edit.
    frame = _panned(shot.background, width, height, index * shot.pan_px * width / 640)
    if shot.person is None:
        return frame
    _place(frame, _talking(shot.person).frame(t), shot.face_height, shot.centre_x, index)
    if shot.second_person:
        _place(frame, _talking(shot.second_person).frame(t + 0.5), shot.face_height, 1.0 - shot.centre_x, index)
    return frame


def _place(frame: np.ndarray, portrait: np.ndarray, face_height: float, centre_x: float, index: int) -> None:
    height, width = frame.shape[:2]
    side = int(face_height * height)
    card = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    left = int(centre_x * width - side / 2 + 0.4 * index * width / 640)
    top = height - side
    x0, x1 = max(0, left), min(width, left + side)
    frame[top:top + side, x0:x1] = card[:, x0 - left:x1 - left]


@cache
def _talking(person: str) -> TalkingPortrait:
    return TalkingPortrait(portrait_around_face(sample_face(person)))  # type: ignore[arg-type]


@cache
def _background_photo(name: str) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(getattr(data, name)())


def _panned(name: str, width: int, height: int, offset: float) -> np.ndarray:
    photo = _background_photo(name)
    scale = 1.3 * max(width / photo.shape[1], height / photo.shape[0])
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    room = big.shape[1] - width
    x = int(min(room, offset) if room > 0 else 0)
    y = max(0, (big.shape[0] - height) // 2)
    return np.ascontiguousarray(big[y:y + height, x:x + width])
