"""The engine seam: everything outside an engine sees only this interface."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import numpy as np

from ..segment_plan import FrameRange


@dataclass(frozen=True)
class SwapSettings:
    """Knobs every engine honours; an artist sees them as widgets on the face-replace node."""

    strength: float = 1.0  # how much of the avatar's face shows, 0..1
    colour_match: float = 1.0  # 0 = avatar's own skin tone, 1 = match the filmed face's colour and light
    feather: float = 0.08  # soft edge width, as a share of the face width
    smoothing: float = 0.5  # landmark steadiness over time, 0 (off) .. 1 (very steady)
    crossfade_frames: int = 6  # fade the swap in and out over this many frames at each segment edge
    keep_mouth: bool = True  # show the filmed mouth interior (teeth, tongue) instead of the avatar's
    min_face_confidence: float = 0.5
    turn_limit: float = 40.0  # degrees of head turn at which the swap has faded to the filmed face (90 = never)
    occlusion: bool = True  # cut hands and objects in front of the face out of the swap


@dataclass(frozen=True)
class SwappedFrame:
    """One output frame and the mask the swap was allowed to show through."""

    image: np.ndarray  # RGB uint8
    # uint8 (H, W), 255 where the visible face may be swapped (occluders cut out, soft edge), before the fades for
    # head turns and segment edges; None when no face was found (nothing swapped).
    visible: np.ndarray | None


@dataclass
class SegmentStats:
    """What happened in one swap segment, for the job summary."""

    frames: int = 0
    frames_with_face: int = 0

    @property
    def frames_without_face(self) -> int:
        return self.frames - self.frames_with_face


@dataclass
class SwapReport:
    """Totals over all swap segments of a job."""

    engine: str
    segments: list[SegmentStats] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole swap, avatar check included
    stage_seconds: dict[str, float] = field(default_factory=dict)  # an engine's own breakdown (Wan: sampling, ...)

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)

    @property
    def frames_with_face(self) -> int:
        return sum(s.frames_with_face for s in self.segments)

    def warnings(self) -> list[str]:
        missing = self.frames - self.frames_with_face
        if self.frames and self.frames_with_face == 0:
            return ["no face was found in any swap segment; the video is unchanged"]
        if missing:
            return [f"{missing} of {self.frames} swap frames showed no face and were left unchanged"]
        return []


class PreparedAvatar(Protocol):
    """Whatever an engine keeps of the avatar photo after checking it holds exactly one usable face."""


class FaceEngine(Protocol):
    name: str

    def prepare_avatar(self, avatar_rgb: np.ndarray, settings: SwapSettings) -> PreparedAvatar:
        """Check the photo holds exactly one usable face (raising an AvatarImageError otherwise) and keep it."""
        ...

    def swap_segment(
        self,
        avatar: PreparedAvatar,
        frames: Iterable[np.ndarray],
        segment: FrameRange,
        fps: Fraction,
        settings: SwapSettings,
        stats: SegmentStats,
        visible_masks: Iterator[np.ndarray] | None = None,
    ) -> Iterator[SwappedFrame]:
        """Yield one output frame per input frame of one swap segment (source frames `segment`), updating `stats`.

        `visible_masks`, when given, are an artist's masks for the same frames (uint8, frame size, 255 = visible
        face): they replace the automatic occlusion-aware mask, and can only narrow the engine's own face area."""
        ...

    def stage_seconds(self) -> dict[str, float]:
        """The engine's own breakdown of where its time went so far (empty when it keeps none)."""
        ...
