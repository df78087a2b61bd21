from __future__ import annotations

from comfy_api.latest import io

from ..core.engines import DEFAULT_ENGINE, engine_spec, standalone_engine_names
from ..core.video.label import LabelSettings
from .swap_output import (label_inputs, mask_override_input, swap_output, target_inputs, visible_mask_output,
                          watermark_input)
from .swap_settings_inputs import swap_setting_inputs, swap_settings
from .types import CATEGORY, PlannedVideoType, SwappedSegmentsType

SETTINGS = ("strength", "colour_match", "feather", "smoothing", "crossfade_frames", "keep_mouth",
            "min_face_confidence", "turn_limit", "occlusion", "face_shape",
            "detail_match")


class FaceReplaceNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        engines = standalone_engine_names()
        return io.Schema(
            node_id="UGCSwapFaceReplace",
            display_name="Face Replace",
            category=CATEGORY,
            description="Puts the avatar's face onto the chosen person (see target) in every swap segment of the plan.",
            inputs=[
                PlannedVideoType.Input("planned_video"),
                io.Image.Input("avatar", tooltip="A photo showing exactly one face (from Load Image)."),
                io.Combo.Input("engine", options=list(engines), default=DEFAULT_ENGINE,
                               tooltip="; ".join(f"{name}: {engine_spec(name).summary}" for name in engines) + "."),
                *swap_setting_inputs(SETTINGS),
                *target_inputs(),
                *label_inputs(),
                watermark_input(),
                mask_override_input("occlusion-aware"),
            ],
            outputs=[
                SwappedSegmentsType.Output("swapped_segments"),
                io.String.Output("summary"),
                visible_mask_output(),
            ],
        )

    @classmethod
    def execute(cls, planned_video, avatar, engine: str, target: str, target_face_at_s: float, label: str,
                label_text: str, label_corner: str, label_size: float, watermark: str = "", target_face=None,
                mask_override=None, **settings) -> io.NodeOutput:
        return swap_output(planned_video, avatar, engine, swap_settings(settings), mask_override, target,
                           target_face_at_s, target_face, LabelSettings(label, label_text, label_corner, label_size), watermark)
