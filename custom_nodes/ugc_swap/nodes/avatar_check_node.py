from __future__ import annotations

import json

from comfy_api.latest import io

from ..core.engines import SwapSettings
from ..core.faces.main_face import checked_avatar
from .swap_output import image_tensor_to_rgb
from .types import CATEGORY


class AvatarCheckNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapAvatarCheck",
            display_name="Avatar Check",
            category=CATEGORY,
            description="Whether the photo can give a swap the customer recognises: exactly one face, large, sharp, "
                        "facing the camera, eyes open, in colour and fully in the picture. Refuses the photo "
                        "(avatar_low_quality, naming the reason) or passes it with warnings; the face-replace nodes "
                        "run the same check.",
            inputs=[
                io.Image.Input("avatar", tooltip="The customer's face photo (from Load Image)."),
                io.Float.Input("min_face_confidence", display_name="min face confidence",
                               default=SwapSettings().min_face_confidence, min=0.1, max=0.95, step=0.05),
            ],
            outputs=[io.String.Output("report", tooltip="The measured figures and any warnings, as JSON.")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, avatar, min_face_confidence: float) -> io.NodeOutput:
        _, quality = checked_avatar(image_tensor_to_rgb(avatar), min_face_confidence)
        report = quality.to_json()
        return io.NodeOutput(json.dumps(report), ui={"ugc_swap_avatar_check": [report]})
