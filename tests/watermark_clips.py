"""Footage for the watermark's checks: real photos (scikit-image's data, public domain or CC0) filmed by a virtual
camera that stands still, pans, zooms or is hand-held, with a portrait that bobs and turns as a talking person
does, and optionally a cut. The same generator makes marked clips (segments marked as a job marks them, through
core/video/watermark.py) and the unmarked clips the false-positive count runs on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ugc_swap.core.sample_media import _place, portrait_card, sample_face
from ugc_swap.core.video.video_stream import FINAL_ENCODE, YUV420, FrameReader, FrameWriter
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.watermark import WatermarkSettings, mark_yuv420

BACKGROUNDS = ("coffee", "chelsea", "rocket", "astronaut", "immunohistochemistry", "wall")
CAMERAS = ("still", "pan", "zoom", "handheld")


@dataclass(frozen=True)
class Scene:
    background: str = "coffee"
    camera: str = "handheld"
    face: str | None = "grace_hopper"
    cut_at_s: float | None = None  # a cut to the same place seen from elsewhere (a second camera)


@lru_cache(maxsize=4)
def _card(face: str, height: int) -> np.ndarray:
    return portrait_card(sample_face(face), height)  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def _background(name: str) -> np.ndarray:
    if name == "wall":  # a flat painted wall with a soft light fall-off: where a visible pattern would show
        y, x = np.mgrid[0:720, 0:1280].astype(np.float32)
        shade = 150 + 30 * np.exp(-((x - 500) ** 2 + (y - 200) ** 2) / 4e5)
        return np.dstack([shade * 0.95, shade * 0.9, shade * 0.8]).astype(np.uint8)
    from skimage import data

    image = getattr(data, name)()
    return np.dstack([image] * 3) if image.ndim == 2 else np.ascontiguousarray(image[..., :3])


def _camera(name: str, t: float, seed: int) -> tuple[float, float, float]:
    """(x shift, y shift as a share of the view, zoom) at time t."""
    if name == "still":
        return 0.0, 0.0, 1.0
    if name == "pan":
        return 0.012 * t, 0.003 * t, 1.0
    if name == "zoom":
        return 0.0, 0.0, 1.0 + 0.02 * t
    rng = np.random.default_rng(seed)  # hand-held: slow sway plus a tremor
    phases, rates = rng.uniform(0, 6.3, 6), rng.uniform(0.3, 1.6, 6)
    sway = [0.01 * math.sin(rates[i] * t * 2 + phases[i]) for i in range(4)]
    tremor = 0.002 * math.sin(rates[4] * t * 23 + phases[4]) + 0.0015 * math.sin(rates[5] * t * 37)
    return sway[0] + sway[1] + tremor, sway[2] + sway[3] + tremor, 1.02


def render(scene: Scene, width: int, height: int, t: float, seed: int = 0) -> np.ndarray:
    """One RGB frame of the scene at time t."""
    second = scene.cut_at_s is not None and t >= scene.cut_at_s
    background = _background(scene.background)
    if second:
        background = cv2.flip(background, 1)
    dx, dy, zoom = _camera(scene.camera, t, seed + int(second))
    h, w = background.shape[:2]
    scale = max(width / w, height / h) * 1.12 * zoom
    matrix = np.float32([[scale, 0, width / 2 - scale * w / 2 - dx * width],
                         [0, scale, height / 2 - scale * h / 2 - dy * height]])
    frame = cv2.warpAffine(background, matrix, (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    if scene.face:  # a talking person: bobbing, turning a little
        card = _card(scene.face, int(height * (0.5 if second else 0.62)))
        _place(frame, card, cx=(0.62 if second else 0.42) + 0.01 * math.sin(t * 2.3) - dx,
               cy=0.5 + 0.015 * math.sin(t * 3.1) - dy, zoom=1.0, angle=4.0 * math.sin(t * 1.7))
    return frame


def write_scene(path: Path, scene: Scene, width: int, height: int, duration_s: float, fps: int = 25,
                seed: int = 0) -> Path:
    with FrameWriter(path, width, height, Fraction(fps), FINAL_ENCODE) as writer:
        for index in range(int(round(duration_s * fps))):
            writer.write(render(scene, width, height, index / fps, seed))
    return path


def mark_segments(source: Path, marked: Path, segments_s: tuple[tuple[float, float], ...],
                  mark: WatermarkSettings) -> Path:
    """`source` re-encoded as a job encodes it, with the mark in the frames of each (start, end) segment."""
    info = probe_video(source)
    fps = float(info.fps)
    with FrameWriter(marked, info.width, info.height, info.fps, FINAL_ENCODE, pixel_format=YUV420) as writer:
        for index, planes in enumerate(FrameReader(info, pixel_format=YUV420)):
            t = index / fps
            for start, end in segments_s:
                if start <= t < end - 1e-9:
                    planes = mark_yuv420(planes, info.width, info.height, mark, t - start)
            writer.write(planes)
    return marked


# What happens to a video after it leaves the service (docs/provenance.md): (name, ffmpeg arguments, seconds cut
# from the start). x264 at its default preset, as a re-upload or an editor's export would do it.
ATTACKS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("H.264 crf 28", ("-c:v", "libx264", "-crf", "28"), 0.0),
    ("540p + crf 30", ("-vf", "scale=-2:540", "-c:v", "libx264", "-crf", "30"), 0.0),
    ("360p + crf 32", ("-vf", "scale=-2:360", "-c:v", "libx264", "-crf", "32"), 0.0),
    ("10 % centre crop + crf 28", ("-vf", "crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2", "-c:v", "libx264", "-crf", "28"),
     0.0),
    ("first 0.5 s cut", ("-c:v", "libx264", "-crf", "23"), 0.5),
    ("2 Mbit/s re-encode", ("-c:v", "libx264", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M"), 0.0),
)


def attack(source: Path, out: Path, arguments: tuple[str, ...], cut_s: float) -> Path:
    import subprocess

    from ugc_swap.core.video.video_stream import ffmpeg_executable

    seek = ["-ss", f"{cut_s}"] if cut_s else []
    subprocess.run([ffmpeg_executable(), "-nostdin", "-y", "-v", "error", *seek, "-i", str(source), *arguments,
                    "-pix_fmt", "yuv420p", "-an", str(out)], check=True)
    return out
