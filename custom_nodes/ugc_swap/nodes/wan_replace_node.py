"""The Wan2.2-Animate replace node: the realistic engine, fed by ComfyUI's own model loaders in the graph."""

from __future__ import annotations

import comfy.samplers
import numpy as np
import torch
from comfy_api.latest import io

from ..core.engines.wan_animate import WanAnimateEngine, WanSettings
from ..core.wan.conditioning import ExternalConditioning
from ..core.wan.work_region import MASK_SCOPES
from ..core.video.label import LabelSettings
from .swap_output import (label_inputs, mask_override_input, swap_output, target_inputs, visible_mask_output,
                          watermark_input)
from .swap_settings_inputs import swap_setting_inputs, swap_settings
from .types import CATEGORY, PlannedVideoType, SwappedSegmentsType
from .wan_sampler import ComfyWanSampler

_WAN = WanSettings()


class WanReplaceNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapWanReplace",
            display_name="Face Replace (Wan2.2-Animate)",
            category=CATEGORY,
            description="Regenerates the main person's head (or whole person) in every swap segment with "
                        "Wan2.2-Animate in replace mode; pose, face video and mask are made automatically.",
            inputs=[
                io.Model.Input("model", tooltip="Wan2.2-Animate, after its LoRAs and ModelSamplingSD3."),
                io.Conditioning.Input("positive"),
                io.Conditioning.Input("negative"),
                io.Vae.Input("vae", tooltip="The Wan 2.1 VAE."),
                io.ClipVisionOutput.Input("clip_vision_output", display_name="clip vision output", optional=True,
                                          tooltip="CLIP-vision of the avatar photo; optional."),
                PlannedVideoType.Input("planned_video"),
                io.Image.Input("avatar", tooltip="A photo showing exactly one face (from Load Image)."),
                io.Combo.Input("mask_scope", display_name="mask scope",
                               options=list(MASK_SCOPES), default=_WAN.mask_scope,
                               tooltip="head: face and hair only, body/hands/product stay as filmed. person: whole body."),
                io.Int.Input("pixel_budget", display_name="pixel budget",
                             default=_WAN.pixel_budget, min=64 * 64, max=1280 * 720, step=256,
                             tooltip="Pixels per generated frame (480×480 by default); fewer is faster and cheaper."),
                io.Float.Input("generation_fps", display_name="generation fps",
                               default=_WAN.generation_fps, min=0.0, max=60.0, step=1.0,
                               tooltip="Rate the model generates at; frames are interpolated back. 0 = source rate."),
                io.Int.Input("window_length", display_name="window length",
                             default=_WAN.window_length, min=5, max=161, step=4,
                             tooltip="Frames per WanAnimateToVideo window (4k + 1)."),
                io.Int.Input("motion_frames", display_name="motion frames",
                             default=_WAN.motion_frames, min=1, max=33, step=4,
                             tooltip="Frames carried into the next window as continue_motion."),
                io.Int.Input("seed", default=_WAN.seed, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True),
                io.Int.Input("steps", default=4, min=1, max=100, tooltip="4 with the lightx2v distill LoRA."),
                io.Float.Input("cfg", default=1.0, min=0.0, max=30.0, step=0.1, tooltip="1 with the distill LoRA."),
                io.Combo.Input("sampler_name", display_name="sampler name",
                               options=list(comfy.samplers.KSampler.SAMPLERS), default="euler"),
                io.Combo.Input("scheduler", options=list(comfy.samplers.KSampler.SCHEDULERS), default="simple"),
                *swap_setting_inputs(("strength", "colour_match", "feather", "crossfade_frames", "detail_match"),
                                     {"feather": "Soft edge width as a share of the work region."}),
                io.Image.Input("pose_video", display_name="pose video", optional=True,
                               tooltip="Your own pose frames for the WHOLE video, frame for frame (e.g. a DWPose "
                                       "node over Load Video's frames); replaces the automatic pose."),
                io.Mask.Input("character_mask", display_name="character mask", optional=True,
                              tooltip="Your own mask for the WHOLE video, frame for frame (e.g. SAM2); replaces "
                                      "the automatic head/person mask."),
                *swap_setting_inputs(("occlusion",), {"occlusion": "Keep hands and objects in front of the face as "
                                                                   "filmed when pasting back."}),
                *target_inputs(),
                *label_inputs(),
                watermark_input(),
                mask_override_input("paste-back"),
            ],
            outputs=[
                SwappedSegmentsType.Output("swapped_segments"),
                io.String.Output("summary"),
                visible_mask_output(),
            ],
        )

    @classmethod
    def execute(cls, model, positive, negative, vae, planned_video, avatar, mask_scope: str, pixel_budget: int,
                generation_fps: float, window_length: int, motion_frames: int, seed: int, steps: int, cfg: float,
                sampler_name: str, scheduler: str, target: str, target_face_at_s: float, label: str,
                label_text: str, label_corner: str, label_size: float, watermark: str = "",
                clip_vision_output=None, pose_video=None,
                character_mask=None, target_face=None, mask_override=None, **settings) -> io.NodeOutput:
        sampler = ComfyWanSampler(model, positive, negative, vae, clip_vision_output, steps, cfg, sampler_name,
                                  scheduler, motion_frames)
        wan = WanSettings(mask_scope, pixel_budget, generation_fps, window_length, motion_frames, seed)  # type: ignore[arg-type]
        external = _wired_in(pose_video, character_mask)
        return swap_output(planned_video, avatar, WanAnimateEngine(sampler, wan, external=external),
                           swap_settings(settings), mask_override, target, target_face_at_s, target_face,
                           LabelSettings(label, label_text, label_corner, label_size), watermark)


def _wired_in(pose_video, character_mask) -> ExternalConditioning | None:
    """Frame accessors over wired-in batches; frames are converted one at a time, never the whole batch."""
    if pose_video is None and character_mask is None:
        return None
    counts = [t.shape[0] for t in (pose_video, character_mask) if t is not None]

    def pose_at(index: int) -> np.ndarray:
        return (pose_video[index, ..., :3].clamp(0, 1) * 255 + 0.5).to(torch.uint8).cpu().numpy()

    def mask_at(index: int) -> np.ndarray:
        return character_mask[index].float().cpu().numpy()

    return ExternalConditioning(min(counts), pose_at if pose_video is not None else None,
                                mask_at if character_mask is not None else None)
