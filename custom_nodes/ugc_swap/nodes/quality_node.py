from __future__ import annotations

import json
from pathlib import Path

import cv2
import folder_paths
import numpy as np
import torch
from comfy_api.latest import io, ui

from ..core.quality.rule import DEFAULT_MIN_COVERAGE, DEFAULT_MIN_MARGIN, SAME_PERSON_DISTANCE, IdentityRule
from ..core.quality.swap_quality import swap_quality
from .swap_output import image_tensor_to_rgb
from .types import CATEGORY, SwappedSegmentsType


class SwapQualityNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapQuality",
            display_name="Swap Quality",
            category=CATEGORY,
            description="How good the swap came out: whether the face looks like the avatar rather than the filmed "
                        "person in each swap segment, how much of it showed the customer (and why not the rest), and a "
                        "before/after sheet with "
                        "each sampled face zoomed. Made from frames the swap kept; nothing is decoded again.",
            inputs=[
                SwappedSegmentsType.Input("swapped_segments"),
                io.Image.Input("avatar", tooltip="The same avatar photo the swap used."),
                io.Float.Input("max_distance", display_name="max distance", default=SAME_PERSON_DISTANCE, min=0.1,
                               max=1.0, step=0.01, tooltip="Largest face-embedding distance from the swapped face "
                               "to the avatar that still counts as the customer (dlib: below 0.6 = same person)."),
                io.Float.Input("min_margin", display_name="min margin", default=DEFAULT_MIN_MARGIN, min=0.0, max=1.0,
                               step=0.01, tooltip="How much closer to the avatar than to the filmed person the "
                               "swapped face must be; below it the swap is a half-swap (poor identity)."),
                io.Float.Input("min_coverage", display_name="min coverage", default=DEFAULT_MIN_COVERAGE, min=0.0,
                               max=1.0, step=0.05, tooltip="Share of each swap segment's frames that must show the "
                               "customer (a face turned away or hidden counts: the swap fades there by design); "
                               "below it the job is half done (low coverage)."),
                io.String.Input("filename_prefix", display_name="filename prefix", default="ugc_swap/quality",
                                tooltip="Where the before/after sheet goes inside ComfyUI's output folder."),
            ],
            outputs=[io.String.Output("quality"), io.Image.Output("sheet")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, swapped_segments, avatar, max_distance: float, min_margin: float, min_coverage: float,
                filename_prefix: str) -> io.NodeOutput:
        quality, sheet = swap_quality(swapped_segments, image_tensor_to_rgb(avatar),
                                      IdentityRule(max_distance, min_margin), min_coverage)
        if sheet is None:
            sheet = np.full((64, 64, 3), 128, np.uint8)
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), sheet.shape[1], sheet.shape[0])
        file_name = f"{name}_{counter:05}_.jpg"
        cv2.imwrite(str(Path(folder) / file_name), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
        tensor = torch.from_numpy(sheet.astype(np.float32) / 255.0)[None]
        return io.NodeOutput(json.dumps(quality), tensor,
                             ui={"images": [ui.SavedResult(file_name, subfolder, io.FolderType.output)],
                                 "ugc_swap_quality": [quality]})
