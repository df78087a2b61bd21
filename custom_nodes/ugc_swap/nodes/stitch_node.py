from __future__ import annotations

import json
import time
from pathlib import Path

import folder_paths
from comfy_api.input_impl import VideoFromFile
from comfy_api.latest import io, ui

from ..core.job_summary import job_summary
from ..core.stitch import stitch_video
from .comfy_progress import comfy_progress
from .types import CATEGORY, SwappedSegmentsType


class StitchNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="UGCSwapStitch",
            display_name="Stitch & Save",
            category=CATEGORY,
            description="Joins swapped and untouched segments with the original audio and saves the video.",
            inputs=[
                SwappedSegmentsType.Input("swapped_segments"),
                io.String.Input("filename_prefix", display_name="filename prefix", default="ugc_swap/result",
                                tooltip="Where the video goes inside ComfyUI's output folder."),
            ],
            outputs=[io.Video.Output("video"), io.String.Output("summary")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, swapped_segments, filename_prefix: str) -> io.NodeOutput:
        source = swapped_segments.planned.source
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), source.width, source.height
        )
        file_name = f"{name}_{counter:05}_.mp4"
        started = time.perf_counter()
        stitched = stitch_video(swapped_segments, Path(folder) / file_name, comfy_progress(source.frame_count))
        summary = job_summary(swapped_segments, stitched, time.perf_counter() - started)
        saved = ui.SavedResult(file_name, subfolder, io.FolderType.output)
        return io.NodeOutput(
            VideoFromFile(str(stitched.path)),
            json.dumps(summary),
            ui={"images": [saved], "animated": (True,), "ugc_swap_summary": [summary]},
        )
