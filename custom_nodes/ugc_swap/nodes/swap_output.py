"""What every face-replace node does after building its engine: swap the plan's segments, report on them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import folder_paths
import numpy as np
from comfy_api.input_impl import VideoFromFile
from comfy_api.latest import io

from ..core.engines import FaceEngine, SwapSettings
from ..core.engines.base import TARGET_MODES
from ..core.faces.target import resolve_target
from ..core.swap_segments import swap_segments
from ..core.video.label import CORNERS, LABEL_MODES, LabelSettings
from ..core.video.watermark import WatermarkSettings
from ..core.video.watermark_pattern import payload_hex
from .comfy_progress import comfy_progress


def image_tensor_to_rgb(image) -> np.ndarray:
    """First image of a ComfyUI IMAGE batch (B, H, W, C floats in 0..1) as an RGB uint8 array."""
    array = image[0].detach().cpu().numpy()
    return np.ascontiguousarray((np.clip(array[..., :3], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def mask_override_input(tooltip_engine: str) -> io.Video.Input:
    """The optional mask-video input both face-replace nodes share."""
    return io.Video.Input(
        "mask_override", display_name="mask override", optional=True,
        tooltip="A grey mask video of the WHOLE source, frame for frame (white = face may be swapped), e.g. this "
                f"node's own visible_mask output edited and loaded back; replaces the automatic {tooltip_engine} mask "
                "and can only narrow the face area.")


def target_inputs() -> list[io.Input]:
    """Who gets the face: the inputs both face-replace nodes share (faces/target.py)."""
    return [
        io.Combo.Input("target", options=list(TARGET_MODES), default="main",
                       tooltip="main: the most prominent face of each shot; reference: only the person shown in "
                               "target face (a photo) or at target face at s (a time in the source), in every shot, "
                               "other people left as filmed; all: every face."),
        io.Float.Input("target_face_at_s", display_name="target face at s", default=-1.0, min=-1.0, max=36000.0,
                       step=0.1, tooltip="reference: a time (s) in the source where the person to replace is "
                                         "clearly visible; -1 = not used (wire a photo into target face instead)."),
        io.Image.Input("target_face", display_name="target face", optional=True,
                       tooltip="reference: a photo of the person to replace (from Load Image)."),
    ]


def label_inputs() -> list[io.Input]:
    """The visible disclosure label (video/label.py): the inputs both face-replace nodes share."""
    defaults = LabelSettings()
    return [
        io.Combo.Input("label", options=list(LABEL_MODES), default=defaults.mode,
                       tooltip="A visible 'AI-generated' mark: none, on the swapped frames, or on the whole video "
                               "(then every frame is re-encoded)."),
        io.String.Input("label_text", display_name="label text", default=defaults.text),
        io.Combo.Input("label_corner", display_name="label corner", options=list(CORNERS), default=defaults.corner),
        io.Float.Input("label_size", display_name="label size", default=defaults.size, min=0.02, max=0.2, step=0.005,
                       tooltip="Height of the label as a share of the frame's shorter side."),
    ]


def watermark_input() -> io.String.Input:
    """The invisible mark (video/watermark.py): the input both face-replace nodes share."""
    return io.String.Input(
        "watermark", default="",
        tooltip="The invisible AI-generated mark in every swapped frame carries a 32-bit hash of this text (the "
                "worker fills in the record and job id); empty: a new id for each run; off: no mark. "
                "`ugc-swap verify` reads it back, even after re-encoding, scaling or cropping.")


def visible_mask_output() -> io.Video.Output:
    return io.Video.Output(
        "visible_mask", display_name="visible mask",
        tooltip="Grey video of the whole source: where the face was swapped (hands and objects in front cut out).")


def swap_output(planned_video, avatar, engine: FaceEngine | str, settings: SwapSettings, mask_override=None,
                target: str = "main", target_face_at_s: float = -1.0, target_face=None,
                label: LabelSettings = LabelSettings(), watermark: str = "") -> io.NodeOutput:
    """(swapped_segments, summary, visible_mask) for the node's outputs; clips go to ComfyUI's temp folder."""
    photo = image_tensor_to_rgb(target_face) if target_face is not None else None
    run_id = uuid.uuid4().hex
    mark = WatermarkSettings.for_text(watermark or run_id)
    settings = replace(settings, target=resolve_target(target, photo, target_face_at_s, planned_video.source))
    swapped = swap_segments(
        planned_video,
        image_tensor_to_rgb(avatar),
        engine,
        settings,
        clip_dir=Path(folder_paths.get_temp_directory()) / "ugc_swap",
        clip_prefix=run_id,
        progress=comfy_progress(planned_video.plan.swapped_frame_count),
        mask_override=Path(mask_override.get_stream_source()) if mask_override is not None else None,
        label=label,
        watermark=mark,
    )
    report = swapped.report
    summary = f"{report.engine}: face found in {report.frames_with_face} of {report.frames} swap frames"
    if mark.payload is not None:
        summary += f"; watermark {payload_hex(mark.payload)}"
    return io.NodeOutput(swapped, "; ".join([summary, *report.warnings()]), VideoFromFile(str(swapped.visible_mask)))
