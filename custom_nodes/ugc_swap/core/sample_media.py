"""Sample inputs made from real, redistributable face photos that ship inside packages.

No real person video ships in any package, so a "product demo" is built by moving, zooming and turning a real
portrait over a moving background, with a sine-tone soundtrack. The CLI uses it when no video is given and the
tests use it as ground truth (the original face is known, so identity can be measured).
"""

from __future__ import annotations

import math
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from .video.video_stream import FINAL_ENCODE, EncodeSettings, FrameWriter

SampleFace = Literal["astronaut", "grace_hopper"]


def sample_face(name: SampleFace) -> np.ndarray:
    """RGB uint8 portrait: `astronaut` (scikit-image, public-domain NASA photo) or `grace_hopper` (matplotlib)."""
    if name == "astronaut":
        from skimage.data import astronaut

        return np.ascontiguousarray(astronaut())
    if name == "grace_hopper":
        from matplotlib.cbook import get_sample_data

        with get_sample_data("grace_hopper.jpg") as handle:
            data = np.frombuffer(handle.read(), np.uint8)
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    raise ValueError(f"unknown sample face {name!r}")


@dataclass(frozen=True)
class SampleVideoSpec:
    width: int = 1280
    height: int = 720
    fps: Fraction = Fraction(30)
    duration_s: float = 30.0
    face: SampleFace | None = "astronaut"
    second_face: SampleFace | None = None  # a smaller bystander on the right, to test main-face tracking
    tone_hz: float = 440.0
    # Phone cameras and editors' exports put an IDR picture every 1-2 s; None leaves x264's default (250 frames).
    keyframe_interval_s: float | None = 2.0


def write_sample_video(path: Path, spec: SampleVideoSpec = SampleVideoSpec(),
                       portrait: Callable[[float], np.ndarray] | None = None) -> Path:
    """Encode the sample video with audio to `path` and return it. `portrait` gives the main face's photo at each
    time (s), e.g. one that talks and blinks; by default it is `spec.face`'s still photo."""
    frame_count = int(round(spec.duration_s * spec.fps))
    main_height = int(spec.height * 0.62)
    if portrait is None and spec.face:
        still = portrait_card(sample_face(spec.face), main_height)
        card_at: Callable[[float], np.ndarray | None] = lambda t: still
    elif portrait is not None:
        card_at = lambda t: portrait_card(portrait(t), main_height)
    else:
        card_at = lambda t: None
    with tempfile.TemporaryDirectory() as temp:
        tone = Path(temp) / "tone.wav"
        _write_tone(tone, spec.duration_s, spec.tone_hz)
        side = portrait_card(sample_face(spec.second_face), int(spec.height * 0.30)) if spec.second_face else None
        with FrameWriter(path, spec.width, spec.height, spec.fps, _sample_encode(spec), audio_path=tone) as writer:
            for index in range(frame_count):
                t = index / float(spec.fps)
                frame = _background(spec.width, spec.height, t)
                main = card_at(t)
                if main is not None:
                    _place(frame, main, cx=0.42 + 0.06 * math.sin(t * 0.9), cy=0.5 + 0.04 * math.sin(t * 1.3),
                           zoom=1.0 + 0.08 * math.sin(t * 0.5), angle=6.0 * math.sin(t * 0.7))
                if side is not None:
                    _place(frame, side, cx=0.82, cy=0.35 + 0.03 * math.sin(t), zoom=1.0, angle=0.0)
                writer.write(frame)
    return path


def _sample_encode(spec: SampleVideoSpec) -> EncodeSettings:
    if spec.keyframe_interval_s is None:
        return FINAL_ENCODE
    return replace(FINAL_ENCODE, x264_params=f"keyint={max(1, round(spec.keyframe_interval_s * spec.fps))}")


def _write_tone(path: Path, duration_s: float, tone_hz: float, rate: int = 48000) -> None:
    t = np.arange(int(duration_s * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * tone_hz * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def portrait_card(photo: np.ndarray, height: int) -> np.ndarray:
    """The photo scaled to `height` with an elliptical soft alpha, as RGBA float32."""
    width = int(round(photo.shape[1] * height / photo.shape[0]))
    rgb = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = np.zeros((height, width), np.float32)
    cv2.ellipse(alpha, (width // 2, height // 2), (int(width * 0.47), int(height * 0.49)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=height * 0.02)
    return np.dstack([rgb, alpha])


def _background(width: int, height: int, t: float) -> np.ndarray:
    """A slowly shifting gradient with a moving "product" box, so keep segments are not a still image."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    r = 90 + 60 * x + 20 * math.sin(t * 0.3)
    g = 110 + 50 * y
    b = 150 + 40 * (1 - x) * y
    frame = np.stack(np.broadcast_arrays(r, g, b), axis=-1).astype(np.uint8)
    bx = int(width * (0.70 + 0.08 * math.sin(t * 0.8)))
    by = int(height * 0.62)
    cv2.rectangle(frame, (bx, by), (bx + width // 10, by + height // 4), (230, 200, 40), -1)
    cv2.putText(frame, "PRODUCT", (bx + 4, by + height // 8), cv2.FONT_HERSHEY_SIMPLEX, height / 1400, (30, 30, 30), 2)
    return frame


def _place(frame: np.ndarray, card: np.ndarray, cx: float, cy: float, zoom: float, angle: float) -> None:
    """Alpha-blend the RGBA `card`, zoomed and turned, centred at (cx, cy) in frame fractions."""
    height, width = frame.shape[:2]
    ch, cw = card.shape[:2]
    matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, zoom)
    matrix[:, 2] += (cx * width - cw / 2, cy * height - ch / 2)
    warped = cv2.warpAffine(card, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4]
    frame[:] = np.clip(frame * (1 - alpha) + warped[..., :3] * alpha + 0.5, 0, 255).astype(np.uint8)
