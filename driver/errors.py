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
    """Fetching an input failed; the subclasses say how, so Make.com can tell a dead link from a bad file."""

    code = "input_download_failed"


class InputUnreachableError(InputDownloadError):
    code = "input_unreachable"


class InputTimeoutError(InputDownloadError):
    code = "input_timeout"


class InputNotFoundError(InputDownloadError):
    code = "input_not_found"


class InputForbiddenError(InputDownloadError):
    code = "input_forbidden"


class InputRedirectError(InputDownloadError):
    code = "input_redirect_loop"


class BlockedAddressError(InputDownloadError):
    code = "input_blocked_address"


class InputTooLargeError(InputDownloadError):
    code = "input_too_large"


class InputWrongTypeError(InputDownloadError):
    code = "input_wrong_type"


class InputTooLongError(InputDownloadError):
    code = "input_too_long"


class InputResolutionError(InputDownloadError):
    code = "input_resolution_too_high"


_CODE_PREFIX = re.compile(r"^\[(?P<code>[a-z_]+)\] (?P<message>.*)$", re.DOTALL)


def error_from_node_failure(node_type: str, exception_message: str) -> UgcSwapError:
    """Turn a node's failure reported by ComfyUI back into an error with the core's stable code."""
    match = _CODE_PREFIX.match(exception_message.strip())
    if match:
        error = UgcSwapError(match["message"])
        error.code = match["code"]
        return error
    return ComfyExecutionError(f"node {node_type} failed: {exception_message.strip()}")


class DiskSpaceError(UgcSwapError):
    code = "insufficient_disk"


class ResultsStoreError(UgcSwapError):
    code = "results_store_unavailable"
