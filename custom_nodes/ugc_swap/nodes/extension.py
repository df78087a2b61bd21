from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from .avatar_check_node import AvatarCheckNode
from .face_replace_node import FaceReplaceNode
from .quality_node import SwapQualityNode
from .segment_plan_node import SegmentPlanNode
from .stitch_node import StitchNode
from .wan_conditioning_node import ZeroConditioningNode
from .wan_replace_node import WanReplaceNode


class UgcSwapExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [SegmentPlanNode, AvatarCheckNode, FaceReplaceNode, WanReplaceNode, ZeroConditioningNode, StitchNode,
                SwapQualityNode]
