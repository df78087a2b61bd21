"""The engine seam: everything outside an engine sees only this interface."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from ..segment_plan import FrameRange

if TYPE_CHECKING:
    from ..faces.avatar_quality import AvatarQuality


def _knob(default, label: str, tooltip: str, minimum=None, maximum=None, step=None):
    """A setting with what an artist sees of it: the node widgets of every engine are made from these."""
    return field(default=default, metadata={"label": label, "tooltip": tooltip, "min": minimum, "max": maximum,
                                            "step": step})


TargetMode = Literal["main", "reference", "all"]
TARGET_MODES: tuple[str, ...] = ("main", "reference", "all")


@dataclass(frozen=True)
class FaceTarget:
    """Who gets the customer's face (faces/target.py): the main face of each shot, the reference person, or all."""

    mode: TargetMode = "main"
    reference: tuple[float, ...] | None = None  # mode `reference`: the person's 128-d face embedding (dlib)


@dataclass(frozen=True)
class SwapSettings:
    """Knobs every engine honours (each engine's node shows the ones it uses, as widgets declared here)."""

    strength: float = _knob(1.0, "strength", "How much of the avatar's face shows.", 0.0, 1.0, 0.05)
    colour_match: float = _knob(1.0, "colour match", "0 keeps the avatar's skin tone, 1 matches the filmed light "
                                "and colour.", 0.0, 1.0, 0.05)
    feather: float = _knob(0.04, "feather", "Soft edge width as a share of the face width.", 0.01, 0.3, 0.01)
    smoothing: float = _knob(0.5, "smoothing", "Steadiness of the face over time; raise it if the face jitters.",
                             0.0, 1.0, 0.05)
    crossfade_frames: int = _knob(6, "crossfade frames", "Fade the new face in and out over this many frames at "
                                  "each segment edge.", 0, 60, 1)
    keep_mouth: bool = _knob(True, "keep mouth", "Show the filmed mouth interior (teeth, tongue) when the mouth "
                             "opens.")
    min_face_confidence: float = _knob(0.5, "min face confidence", "Detections below this score are ignored.",
                                       0.1, 0.95, 0.05)
    turn_limit: float = _knob(40.0, "turn limit", "Head turn (degrees) at which the swap has faded back to the "
                              "filmed face; it fades over the 15 degrees before. 90 = never fade.", 15.0, 90.0, 1.0)
    occlusion: bool = _knob(True, "occlusion", "Keep hands and objects in front of the face as filmed.")
    face_shape: float = _knob(1.0, "face shape", "How much of the avatar's face shape (length, width, jaw, nose, eye "
                              "spacing, mouth width) the swapped face takes; 0 keeps the filmed person's.", 0.0, 1.0,
                              0.05)
    detail_match: float = _knob(1.0, "detail match", "1 gives the swapped face the footage's own sharpness and grain "
                                "(a crisp photo is softened, a small one enlarged and given grain); 0 keeps the "
                                "photo's.", 0.0, 1.0, 0.05)
    target: FaceTarget = FaceTarget()  # not a widget: the node's target inputs make it


@dataclass(frozen=True)
class SwappedFrame:
    """One output frame and the mask the swap was allowed to show through."""

    image: np.ndarray  # RGB uint8
    # uint8 (H, W), 255 where the visible face may be swapped (occluders cut out, soft edge), before the fades for
    # head turns and segment edges; None when no face was found (nothing swapped).
    visible: np.ndarray | None


# Why a planned swap frame shows no swap. The first two are fades by design (the tracked person is there, turned
# towards profile or behind something held up) and count as covered; the others are frames nobody usable was in.
BY_DESIGN = ("turned_away", "hidden")
SKIP_REASONS = (*BY_DESIGN, "no_face", "too_small", "dissolve")


@dataclass
class SegmentStats:
    """What happened in one swap segment, for the job summary and the coverage report."""

    frames: int = 0
    frames_with_face: int = 0  # the tracked face was found (swapped, or faded by design)
    skipped: dict[str, int] = field(default_factory=dict)  # frames left unswapped, by reason (SKIP_REASONS)
    shots: int = 1  # shots the segment spans (cuts found + 1)
    smallest_skipped_face_px: float | None = None  # the narrowest face skipped as too small, px

    def skip(self, reason: str, face_px: float | None = None) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if face_px is not None:
            self.smallest_skipped_face_px = round(min(face_px, self.smallest_skipped_face_px or face_px), 1)

    @property
    def frames_without_face(self) -> int:
        return self.frames - self.frames_with_face

    @property
    def covered(self) -> int:
        """Frames the swap showed the customer in, or left by design."""
        return self.frames - sum(n for reason, n in self.skipped.items() if reason not in BY_DESIGN)


@dataclass
class SwapReport:
    """Totals over all swap segments of a job."""

    engine: str
    segments: list[SegmentStats] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole swap, avatar check included
    stage_seconds: dict[str, float] = field(default_factory=dict)  # an engine's own breakdown (Wan: sampling, ...)
    avatar_warnings: list[str] = field(default_factory=list)  # what the avatar gate let through with a warning

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)

    @property
    def frames_with_face(self) -> int:
        return sum(s.frames_with_face for s in self.segments)

    def warnings(self) -> list[str]:
        missing = self.frames - self.frames_with_face
        if self.frames and self.frames_with_face == 0:
            return [*self.avatar_warnings, "no face was found in any swap segment; the video is unchanged"]
        if missing:
            return [*self.avatar_warnings, f"{missing} of {self.frames} swap frames showed no face and were left "
                                           "unchanged"]
        return list(self.avatar_warnings)


class PreparedAvatar(Protocol):
    """Whatever an engine keeps of the avatar photo after checking it holds exactly one usable face."""

    quality: AvatarQuality  # the avatar gate's figures and warnings (faces/avatar_quality.py)


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


@dataclass(frozen=True)
class EngineSpec:
    """What the registry knows of one engine; each engine module declares one as `ENGINE`."""

    name: str  # what requests, the CLI and the node's choice call it
    summary: str  # one line for artists (the node's tooltip) and for `ugc-swap models`
    # The API-format graph in the repository's workflows/ folder that runs it; the model files it needs are the
    # ones that graph's loader nodes load (workflows/models.json has their sources and sizes).
    workflow: str
    # Makes an engine by name; None for an engine that needs models from the graph and is built by its own node.
    build: Callable[[], FaceEngine] | None = None
