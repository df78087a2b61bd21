from __future__ import annotations

from comfy_api.latest import io

from ..core.planned_video import plan_video
from ..core.segment_plan import DEFAULT_SEGMENT_PLAN
from .types import CATEGORY, PlannedVideoType


class SegmentPlanNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapSegmentPlan",
            display_name="Segment Plan",
            category=CATEGORY,
            description="Decides which seconds of the video get the new face. Uncovered time is kept as filmed.",
            inputs=[
                io.Video.Input("video", tooltip="The product-demo video (from Load Video)."),
                io.String.Input(
                    "plan",
                    default=DEFAULT_SEGMENT_PLAN,
                    multiline=True,
                    tooltip="'start-end swap|keep' in seconds, comma separated ('20-end keep' runs to the end), "
                    "or JSON [{\"start\": 0, \"end\": 5, \"action\": \"swap\"}].",
                ),
            ],
            outputs=[
                PlannedVideoType.Output("planned_video", tooltip="The video with its exact swap frame ranges."),
                io.String.Output("summary"),
            ],
        )

    @classmethod
    def execute(cls, video, plan: str) -> io.NodeOutput:
        source = video.get_stream_source()
        if not isinstance(source, str):
            raise ValueError("Segment Plan needs a video loaded from a file (use Load Video)")
        planned = plan_video(source, plan)
        return io.NodeOutput(planned, planned.summary())
