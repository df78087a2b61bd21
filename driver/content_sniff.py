"""What a downloaded file really is, from its first bytes, whatever the server's Content-Type claimed.

Share links fail in telling ways: Google Drive and Dropbox answer an HTML page with 200, a CDN answers a JSON
error, someone pastes the avatar link into the video field. Naming what arrived turns those into clear errors.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["video", "image"]

_IMAGE_FTYP_BRANDS = {b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis"}
VIDEO_KINDS = {"mp4", "matroska", "avi", "mpeg-ts"}
IMAGE_KINDS = {"png", "jpeg", "webp", "bmp", "gif"}


def sniff_kind(head: bytes) -> str:
    """A short name for the format of a file starting with `head` (give at least 512 bytes when there are)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "heif image" if head[8:12] in _IMAGE_FTYP_BRANDS else "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mp4"  # old QuickTime files start straight with an atom
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 377 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return "mpeg-ts"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return "html page"
    if text.startswith((b"{", b"[")):
        return "json document"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "xml document"
    if not head:
        return "empty file"
    return "unknown"


def describe_mismatch(role: Role, kind: str) -> str | None:
    """None when a `kind` file suits `role`, else why not, for the error message."""
    if role == "video" and kind in VIDEO_KINDS:
        return None
    if role == "image" and kind in IMAGE_KINDS:
        return None
    wanted = "a video (mp4, mov, webm, mkv, avi)" if role == "video" else "an image (jpeg, png, webp, bmp, gif)"
    found = {"unknown": "a file of unknown format", "empty file": "an empty file"}.get(kind, f"a {kind}")
    if kind in IMAGE_KINDS or kind == "heif image":
        found = f"a {kind} image" if kind != "heif image" else "a HEIF image"
    hint = " (a share link that answers a web page instead of the file?)" if kind == "html page" else ""
    return f"expected {wanted} but got {found}{hint}"
