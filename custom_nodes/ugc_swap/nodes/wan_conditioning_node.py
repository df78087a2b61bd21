"""Text conditioning without a text encoder: zeros shaped like umt5-xxl's output.

Wan2.2-Animate in replace mode is driven by the reference image, pose and face video; the prompt matters
little. This lets the graph run where the 5.7 B-parameter umt5-xxl cannot be loaded (CPU tests with the tiny
model, or a GPU short on memory).
"""

from __future__ import annotations

import torch
from comfy_api.latest import io

from .types import CATEGORY

UMT5_TOKENS, UMT5_WIDTH = 512, 4096


class ZeroConditioningNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapZeroConditioning",
            display_name="Empty Wan Conditioning",
            category=CATEGORY,
            description="Zero text conditioning for Wan (no text encoder needed).",
            inputs=[],
            outputs=[io.Conditioning.Output("conditioning")],
        )

    @classmethod
    def execute(cls) -> io.NodeOutput:
        return io.NodeOutput([[torch.zeros(1, UMT5_TOKENS, UMT5_WIDTH), {}]])
