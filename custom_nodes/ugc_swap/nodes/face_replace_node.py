from __future__ import annotations

from comfy_api.latest import io

from ..core.engines import STANDALONE_ENGINE_NAMES, SwapSettings
from .swap_output import swap_output, mask_override_input, visible_mask_output
from .types import CATEGORY, PlannedVideoType, SwappedSegmentsType

_DEFAULTS = SwapSettings()


class FaceReplaceNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapFaceReplace",
            display_name="Face Replace",
            category=CATEGORY,
            description="Puts the avatar's face onto the main person in every swap segment of the plan.",
            inputs=[
                PlannedVideoType.Input("planned_video"),
                io.Image.Input("avatar", tooltip="A photo showing exactly one face (from Load Image)."),
                io.Combo.Input("engine", options=list(STANDALONE_ENGINE_NAMES), default="fast",
                               tooltip="fast: landmark warp on CPU, seconds per segment."),
                io.Float.Input("strength", default=_DEFAULTS.strength, min=0.0, max=1.0, step=0.05,
                               tooltip="How much of the avatar's face shows."),
                io.Float.Input("colour_match", display_name="colour match",
                               default=_DEFAULTS.colour_match, min=0.0, max=1.0, step=0.05,
                               tooltip="0 keeps the avatar's skin tone, 1 matches the filmed light and colour."),
                io.Float.Input("feather", default=_DEFAULTS.feather, min=0.01, max=0.3, step=0.01,
                               tooltip="Soft edge width as a share of the face width."),
                io.Float.Input("smoothing", default=_DEFAULTS.smoothing, min=0.0, max=1.0, step=0.05,
                               tooltip="Steadiness of the face over time; raise it if the face jitters."),
                io.Int.Input("crossfade_frames", display_name="crossfade frames",
                             default=_DEFAULTS.crossfade_frames, min=0, max=60,
                             tooltip="Fade the new face in and out over this many frames at each segment edge."),
                io.Boolean.Input("keep_mouth", display_name="keep mouth", default=_DEFAULTS.keep_mouth,
                                 tooltip="Show the filmed mouth interior (teeth, tongue) when the mouth opens."),
                io.Float.Input("min_face_confidence", display_name="min face confidence",
                               default=_DEFAULTS.min_face_confidence, min=0.1, max=0.95,
                               step=0.05, tooltip="Detections below this score are ignored."),
                io.Float.Input("turn_limit", display_name="turn limit", default=_DEFAULTS.turn_limit, min=15.0,
                               max=90.0, step=1.0,
                               tooltip="Head turn (degrees) at which the swap has faded back to the filmed face; "
                                       "it fades over the 15 degrees before. 90 = never fade."),
                io.Boolean.Input("occlusion", default=_DEFAULTS.occlusion,
                                 tooltip="Keep hands and objects in front of the face as filmed."),
                mask_override_input("occlusion-aware"),
            ],
            outputs=[
                SwappedSegmentsType.Output("swapped_segments"),
                io.String.Output("summary"),
                visible_mask_output(),
            ],
        )

    @classmethod
    def execute(cls, planned_video, avatar, engine: str, strength: float, colour_match: float, feather: float,
                smoothing: float, crossfade_frames: int, keep_mouth: bool, min_face_confidence: float,
                turn_limit: float = _DEFAULTS.turn_limit, occlusion: bool = _DEFAULTS.occlusion,
                mask_override=None) -> io.NodeOutput:
        settings = SwapSettings(strength, colour_match, feather, smoothing, crossfade_frames, keep_mouth,
                                min_face_confidence, turn_limit, occlusion)
        return swap_output(planned_video, avatar, engine, settings, mask_override)
