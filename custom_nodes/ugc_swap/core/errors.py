"""Typed errors, one per failure kind, each with a stable code that reaches results and webhooks unchanged."""

from __future__ import annotations


class UgcSwapError(Exception):
    """Base of every error this project raises on purpose; `code` is stable, `message` is for humans."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class SegmentPlanError(UgcSwapError):
    code = "invalid_segment_plan"


class VideoInputError(UgcSwapError):
    code = "invalid_video"


class VideoProcessingError(UgcSwapError):
    code = "video_processing_failed"


class AvatarImageError(UgcSwapError):
    code = "invalid_avatar_image"


class AvatarNoFaceError(AvatarImageError):
    code = "avatar_no_face"


class AvatarMultipleFacesError(AvatarImageError):
    code = "avatar_multiple_faces"


class UnknownEngineError(UgcSwapError):
    code = "unknown_engine"
