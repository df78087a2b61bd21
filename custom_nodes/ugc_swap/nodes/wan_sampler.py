"""One Wan window through ComfyUI's own code: WanAnimateToVideo → KSampler → TrimVideoLatent → VAE decode.

These are the native nodes' implementations, called per window because a saved graph cannot loop over a number
of windows that depends on the segment's length. The settings are the same widgets those nodes show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..core.wan.generation import WindowRequest


def _images(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).float() / 255.0


@dataclass
class ComfyWanSampler:
    model: Any
    positive: Any
    negative: Any
    vae: Any
    clip_vision_output: Any
    steps: int
    cfg: float
    sampler_name: str
    scheduler: str
    motion_frames: int
    # Seconds spent per stage over all windows so far, for the job summary and the benchmark.
    timings_s: dict[str, float] = field(default_factory=lambda: {"conditioning": 0.0, "sampling": 0.0, "decoding": 0.0})

    def _add(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.timings_s[stage] += now - started
        return now

    def __call__(self, request: WindowRequest) -> np.ndarray:
        import nodes
        from comfy_extras.nodes_wan import TrimVideoLatent, WanAnimateToVideo

        window = request.window
        started = time.perf_counter()
        prepared = WanAnimateToVideo.execute(
            positive=self.positive, negative=self.negative, vae=self.vae,
            width=request.width, height=request.height, length=window.length, batch_size=1,
            continue_motion_max_frames=self.motion_frames,
            # Inputs are pre-sliced to this window; the node steps back by the context frames it is given.
            video_frame_offset=window.context,
            reference_image=_images(request.reference[None]),
            clip_vision_output=self.clip_vision_output,
            face_video=_images(request.face), pose_video=_images(request.pose),
            continue_motion=None if request.continue_motion is None else _images(request.continue_motion),
            background_video=_images(request.background), character_mask=torch.from_numpy(request.mask).float(),
        ).result
        positive, negative, latent, trim_latent, trim_image, _ = prepared
        started = self._add("conditioning", started)
        (sampled,) = nodes.common_ksampler(self.model, request.seed, self.steps, self.cfg, self.sampler_name,
                                           self.scheduler, positive, negative, latent)
        started = self._add("sampling", started)
        trimmed = TrimVideoLatent.execute(samples=sampled, trim_amount=trim_latent).result[0]
        decoded = self.vae.decode(trimmed["samples"])
        self._add("decoding", started)
        # VAE.decode gives (batch, frames, H, W, C) for video latents; one batch here.
        frames = decoded.reshape(-1, *decoded.shape[-3:])[: window.length]
        if frames.shape[0] < window.length:
            raise RuntimeError(f"the VAE decoded {frames.shape[0]} frames for a {window.length}-frame window")
        if trim_image != window.context:
            raise RuntimeError(f"WanAnimateToVideo kept {trim_image} context frames, expected {window.context}")
        return (frames.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()[..., :3]
