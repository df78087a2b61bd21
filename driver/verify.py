"""`ugc-swap verify FILE_OR_URL`: whether a video carries a valid C2PA manifest, who signed it, and what it says
about the swap (engine, models, swapped time ranges, consent reference)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import requests

from .c2pa_manifest import read_manifest


def verify_video(file_or_url: str, trust_anchors_pem: bytes | None = None, timeout_s: float = 60.0) -> dict[str, Any]:
    """The manifest check of a local file or an http(s) URL (downloaded to a temporary file, then removed)."""
    if file_or_url.startswith(("http://", "https://")):
        with tempfile.TemporaryDirectory(prefix="ugc_swap_verify_") as folder:
            path = Path(folder) / "video.mp4"
            with requests.get(file_or_url, stream=True, timeout=timeout_s) as answer:
                answer.raise_for_status()
                with path.open("wb") as out:
                    for chunk in answer.iter_content(1 << 20):
                        out.write(chunk)
            check = read_manifest(path, trust_anchors_pem)
    else:
        check = read_manifest(Path(file_or_url), trust_anchors_pem)
    return {"video": file_or_url.split("?", 1)[0], "c2pa": check.as_dict(),
            "verdict": _verdict(check.present, check.valid, check.trusted, trust_anchors_pem is not None)}


def _verdict(present: bool, valid: bool, trusted: bool, anchored: bool) -> str:
    if not present:
        return "no C2PA manifest"
    if not valid:
        return "C2PA manifest INVALID (the file was changed after signing, or the signature is broken)"
    if anchored:
        return "C2PA manifest valid and signed by a trusted certificate" if trusted else \
            "C2PA manifest intact but its signer is not among the given trust anchors"
    return "C2PA manifest intact (signer not checked: give --trust-anchor to check it)"
