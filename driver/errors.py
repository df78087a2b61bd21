"""Driver-side errors; they share the core's base class so every failure carries one stable code."""

from __future__ import annotations

import re

from ugc_swap.core.errors import UgcSwapError


class ComfyUnavailableError(UgcSwapError):
    code = "comfyui_unavailable"


class WorkflowError(UgcSwapError):
    code = "invalid_workflow"


class ComfyValidationError(UgcSwapError):
    code = "workflow_rejected"


class ComfyExecutionError(UgcSwapError):
    code = "comfyui_execution_failed"


class JobTimeoutError(UgcSwapError):
    code = "job_timeout"


class InputDownloadError(UgcSwapError):
    code = "input_download_failed"


_CODE_PREFIX = re.compile(r"^\[(?P<code>[a-z_]+)\] (?P<message>.*)$", re.DOTALL)


def error_from_node_failure(node_type: str, exception_message: str) -> UgcSwapError:
    """Turn a node's failure reported by ComfyUI back into an error with the core's stable code."""
    match = _CODE_PREFIX.match(exception_message.strip())
    if match:
        error = UgcSwapError(match["message"])
        error.code = match["code"]
        return error
    return ComfyExecutionError(f"node {node_type} failed: {exception_message.strip()}")
