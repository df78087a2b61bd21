"""Swap pairs of real people and judge them the way a viewer and a face recognizer would.

A pair is a filmed person (a talking portrait moving over a background, see talking_portrait.py) and an avatar
photo of someone else. The judge measures, on the median of sampled frames past the fade-in: dlib's distance from
the swapped face to the avatar's person (against a second photo of them where the set has one: the question is
"looks like this person", not "looks like this picture") and to the filmed person (on the same source frame before
the swap), their margin, and the four paste tells (paste_tells.py). Shared by the suite's slice and
bench/quality_pairs.py, which runs every pair at 540p, 720p and 1080p.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ugc_swap.core.engines import SwapSettings, get_engine
from ugc_swap.core.engines.base import SegmentStats
from ugc_swap.core.quality.identity import face_embedding, identity_distance
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.video_stream import FINAL_ENCODE, FrameReader, FrameWriter

from .face_set import cache_dir, face_photo
from .paste_tells import measure, within
from .talking_portrait import TalkingPortrait, portrait_around_face

MAX_TO_AVATAR = 0.50
MIN_MARGIN = 0.15
RESOLUTIONS = {"540p": (960, 540), "720p": (1280, 720), "1080p": (1920, 1080)}
SAMPLED = range(15, 75, 6)  # frames past the fade-in, over mouth movements and the blink
TELL_FRAMES = slice(20, 44)


@dataclass(frozen=True)
class Pair:
    filmed: str  # photo id (tests/faces/manifest.tsv) or a sample face name
    avatar: str
    reference: str | None = None  # a second photo of the avatar's person, if the set has one
    resolution: str = "720p"

    @property
    def name(self) -> str:
        return f"{self.filmed}<-{self.avatar}@{self.resolution}"


@dataclass
class Verdict:
    pair: Pair
    to_avatar: float
    to_filmed: float
    tells_filmed: dict[str, float]
    tells_result: dict[str, float]
    frames: list[np.ndarray] = field(repr=False, default_factory=list)  # source, result of one sampled frame

    @property
    def margin(self) -> float:
        return self.to_filmed - self.to_avatar

    @property
    def identity_ok(self) -> bool:
        return self.to_avatar <= MAX_TO_AVATAR and self.margin >= MIN_MARGIN

    @property
    def tells_ok(self) -> dict[str, bool]:
        return within(self.tells_result, self.tells_filmed)

    def describe(self) -> str:
        tells = ", ".join(f"{k} {self.tells_result[k]:.2f}/{self.tells_filmed[k]:.2f}" for k in self.tells_filmed)
        return (f"{self.pair.name}: to avatar {self.to_avatar:.3f}, to filmed {self.to_filmed:.3f}, margin "
                f"{self.margin:+.3f}; tells result/filmed: {tells}")


def photo(name: str) -> np.ndarray:
    return sample_face(name) if name in ("astronaut", "grace_hopper") else face_photo(name)  # type: ignore[arg-type]


def clip_frames(filmed: str, resolution: str, seconds: float = 3.0) -> list[np.ndarray]:
    """The filmed person's talking clip at `resolution`, made once and kept in the face set's cache."""
    width, height = RESOLUTIONS[resolution]
    key = hashlib.sha256(Path(__file__).with_name("talking_portrait.py").read_bytes()).hexdigest()[:8]
    path = cache_dir() / "clips" / f"{filmed}_{width}x{height}_{seconds:g}s_{key}.mp4"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        talking = TalkingPortrait(portrait_around_face(photo(filmed)))
        partial = path.with_suffix(".part.mp4")
        write_sample_video(partial, SampleVideoSpec(width, height, Fraction(30), seconds), portrait=talking.frame)
        partial.rename(path)
    return list(FrameReader(probe_video(path)))


def swap_frames(frames: list[np.ndarray], avatar_rgb: np.ndarray, settings: SwapSettings = SwapSettings()
                ) -> list[np.ndarray]:
    """The engine's frames, encoded and decoded as the job's final video is (the filmed frames they are compared
    with went through an encoder too: detail and grain are judged after compression on both sides)."""
    engine = get_engine("fast")
    avatar = engine.prepare_avatar(avatar_rgb, settings)
    segment = FrameRange(0, len(frames))
    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "result.mp4"
        with FrameWriter(path, width, height, Fraction(30), FINAL_ENCODE) as writer:
            for swapped in engine.swap_segment(avatar, iter(frames), segment, Fraction(30), settings,
                                               SegmentStats()):
                writer.write(swapped.image)
        return list(FrameReader(probe_video(path)))


def judge(pair: Pair, settings: SwapSettings = SwapSettings()) -> Verdict:
    source = clip_frames(pair.filmed, pair.resolution)
    result = swap_frames(source, portrait_around_face(photo(pair.avatar)), settings)
    person = face_embedding(photo(pair.reference or pair.avatar))
    if person is None:
        raise AssertionError(f"dlib finds no face in {pair.reference or pair.avatar}")
    to_avatar, to_filmed = [], []
    for index in SAMPLED:
        swapped, filmed = face_embedding(result[index]), face_embedding(source[index])
        if swapped is None or filmed is None:
            continue
        to_avatar.append(identity_distance(swapped, person))
        to_filmed.append(identity_distance(swapped, filmed))
    if len(to_avatar) < len(SAMPLED) // 2:
        raise AssertionError(f"{pair.name}: dlib finds the face in only {len(to_avatar)} of {len(SAMPLED)} frames")
    tells_filmed, tells_result = measure(source[TELL_FRAMES], result[TELL_FRAMES])
    middle = SAMPLED[len(SAMPLED) // 2]
    return Verdict(pair, float(np.median(to_avatar)), float(np.median(to_filmed)), tells_filmed, tells_result,
                   [source[middle], result[middle]])
