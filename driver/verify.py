"""`ugc-swap verify FILE_OR_URL`: whether a video carries a valid C2PA manifest, who signed it, and what it says
about the swap (engine, models, swapped time ranges, consent reference); and whether its frames carry the
invisible watermark, with the payload found in each marked segment. The manifest goes with the first re-encode or
screen recording; the watermark is what is left then (video/watermark_find.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import requests

from ugc_swap.core.video.watermark_find import find_marks

from .c2pa_manifest import ManifestCheck, read_manifest


def verify_video(file_or_url: str, trust_anchors_pem: bytes | None = None, timeout_s: float = 60.0) -> dict[str, Any]:
    """The manifest and watermark checks of a local file or an http(s) URL (downloaded to a temporary file, then
    removed)."""
    if file_or_url.startswith(("http://", "https://")):
        with tempfile.TemporaryDirectory(prefix="ugc_swap_verify_") as folder:
            path = Path(folder) / "video.mp4"
            with requests.get(file_or_url, stream=True, timeout=timeout_s) as answer:
                answer.raise_for_status()
                with path.open("wb") as out:
                    for chunk in answer.iter_content(1 << 20):
                        out.write(chunk)
            return verify_file(path, trust_anchors_pem, file_or_url.split("?", 1)[0])
    return verify_file(Path(file_or_url), trust_anchors_pem, file_or_url)


def verify_file(path: Path, trust_anchors_pem: bytes | None, shown_as: str) -> dict[str, Any]:
    check = read_manifest(path, trust_anchors_pem)
    watermark = watermark_report(path)
    return {"video": shown_as, "c2pa": check.as_dict(), "watermark": watermark,
            "verdict": _verdict(check, trust_anchors_pem is not None, watermark)}


def watermark_report(path: Path) -> dict[str, Any]:
    search = find_marks(path)
    payloads = sorted({mark.payload for mark in search.marks if mark.payload})
    return {"found": bool(search.marks), "payloads": payloads,
            "segments": [mark.as_dict() for mark in search.marks]}


def _verdict(check: ManifestCheck, anchored: bool, watermark: dict[str, Any]) -> str:
    if not check.present:
        manifest = "no C2PA manifest"
    elif not check.valid:
        manifest = "C2PA manifest INVALID (the file was changed after signing, or the signature is broken)"
    elif anchored:
        manifest = "C2PA manifest valid and signed by a trusted certificate" if check.trusted else \
            "C2PA manifest intact but its signer is not among the given trust anchors"
    else:
        manifest = "C2PA manifest intact (signer not checked: give --trust-anchor to check it)"
    if not watermark["found"]:
        return f"{manifest}; no ugc-swap watermark found"
    count = len(watermark["segments"])
    return (f"{manifest}; ugc-swap watermark (AI-generated) found in {count} segment{'s' * (count != 1)}, "
            f"payload {', '.join(watermark['payloads'])}")
