"""Custom socket types, so the UI refuses wiring a plan where swapped segments belong and vice versa."""

from comfy_api.latest import io

PlannedVideoType = io.Custom("UGC_PLANNED_VIDEO")
SwappedSegmentsType = io.Custom("UGC_SWAPPED_SEGMENTS")

CATEGORY = "UGC Swap"
