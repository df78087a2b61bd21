"""Fetching a job's inputs from http(s) or s3:// URLs into the job's work folder, with every limit enforced.

Caps on size (checked against Content-Length first, then counted), one overall deadline per download, redirects
followed by hand so each hop passes the address check, then the bytes themselves are checked: the format from
the first bytes, the video's duration and resolution, the image's pixel count. A file lands under its final name
only when all of that passed, so a failed fetch leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from PIL import Image, UnidentifiedImageError
from urllib3.exceptions import HTTPError, ReadTimeoutError

from ugc_swap.core.errors import VideoInputError
from ugc_swap.core.video.video_probe import VideoInfo, pictures_end_s, probe_video

from .content_sniff import Role, describe_mismatch, sniff_kind
from .errors import (
    InputDownloadError,
    InputForbiddenError,
    InputNotFoundError,
    InputRedirectError,
    InputResolutionError,
    InputTimeoutError,
    InputTooLargeError,
    InputTooLongError,
    InputUnreachableError,
    InputWrongTypeError,
)
from .url_safety import AddressPolicy, check_url_destination

_CHUNK = 256 * 1024
_SNIFF_BYTES = 512
# A file whose stored pictures end this much (s) before its announced duration was cut off in transfer.
_CUT_SHORT_SLACK_S = 0.25


@dataclass(frozen=True)
class InputLimits:
    max_video_bytes: int = 500 * 1024**2
    max_image_bytes: int = 25 * 1024**2
    max_video_seconds: float = 180.0
    max_video_long_side: int = 3840
    max_video_short_side: int = 2160
    max_image_pixels: int = 40_000_000
    download_timeout_s: float = 300.0
    connect_timeout_s: float = 10.0
    max_redirects: int = 5

    def max_bytes(self, role: Role) -> int:
        return self.max_video_bytes if role == "video" else self.max_image_bytes


def redact_url(url: str) -> str:
    """scheme://host/path: query strings carry presigned signatures and tokens, which never reach a log or message."""
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}{parsed.path}"


def fetch_input(
    url: str,
    destination: Path,
    role: Role,
    what: str,
    limits: InputLimits,
    policy: AddressPolicy,
    s3_client=None,
) -> Path:
    """Download `url` (named `what` in errors, e.g. 'source_video_url') to `destination` and check it as `role`."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        deadline = time.monotonic() + limits.download_timeout_s
        if urlparse(url).scheme == "s3":
            chunks = _s3_chunks(url, what, limits.max_bytes(role), s3_client)
        else:
            chunks = _http_chunks(url, what, limits, policy, limits.max_bytes(role))
        _write_capped(chunks, partial, what, limits.max_bytes(role), deadline, limits.download_timeout_s)
        check_input_file(partial, role, what, limits)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def check_input_file(path: Path, role: Role, what: str, limits: InputLimits) -> VideoInfo | None:
    """Raise a clear error unless `path` is a `role` file within the limits; returns the video's probe."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    mismatch = describe_mismatch(role, sniff_kind(head))
    if mismatch:
        raise InputWrongTypeError(f"{what}: {mismatch}")
    if role == "image":
        _check_image(path, what, limits)
        return None
    try:
        info = probe_video(path)
    except VideoInputError as error:
        raise VideoInputError(f"{what}: {error.message}") from None
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > limits.max_video_long_side or short_side > limits.max_video_short_side:
        raise InputResolutionError(
            f"{what}: {info.width}x{info.height} is above the limit of "
            f"{limits.max_video_long_side}x{limits.max_video_short_side}"
        )
    if info.duration_s > limits.max_video_seconds:
        raise InputTooLongError(f"{what}: {info.duration_s:.1f} s is longer than the limit of {limits.max_video_seconds:g} s")
    stored = pictures_end_s(path) - info.video_start_s
    if stored < info.duration_s - _CUT_SHORT_SLACK_S:
        raise VideoInputError(f"{what}: the file is cut short: its pictures stop at {max(stored, 0):.1f} s of the "
                              f"{info.duration_s:.1f} s it announces (an incomplete upload or download)")
    return info


def _check_image(path: Path, what: str, limits: InputLimits) -> None:
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise InputResolutionError(f"{what}: {width}x{height} image is above {limits.max_image_pixels} pixels")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputWrongTypeError(f"{what}: the image cannot be decoded ({type(exc).__name__})") from None


def _write_capped(chunks: Iterator[bytes], path: Path, what: str, max_bytes: int, deadline: float, timeout_s: float) -> None:
    written = 0
    with open(path, "wb") as handle:
        for chunk in chunks:
            written += len(chunk)
            if written > max_bytes:
                raise InputTooLargeError(f"{what}: the file is larger than the limit of {max_bytes // 1024**2} MB")
            if time.monotonic() > deadline:
                raise InputTimeoutError(f"{what}: the download did not finish within {timeout_s:g} s")
            handle.write(chunk)


def _http_chunks(url: str, what: str, limits: InputLimits, policy: AddressPolicy, max_bytes: int) -> Iterator[bytes]:
    response = _open_following_redirects(url, what, limits, policy)
    with response:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise InputTooLargeError(
                f"{what}: the server announces {int(length) / 1024**2:.0f} MB, above the limit of {max_bytes // 1024**2} MB"
            )
        try:
            # read1 returns as soon as any bytes arrive, so a server dripping bytes cannot outlive the deadline.
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                yield chunk
        except ReadTimeoutError:
            raise InputTimeoutError(f"{what}: the server stopped sending data") from None
        except (HTTPError, OSError) as exc:
            raise InputUnreachableError(f"{what}: the download broke off ({type(exc).__name__})") from None


def _open_following_redirects(url: str, what: str, limits: InputLimits, policy: AddressPolicy) -> requests.Response:
    session = requests.Session()
    read_timeout = min(60.0, limits.download_timeout_s)
    for _hop in range(limits.max_redirects + 1):
        if urlparse(url).scheme not in ("http", "https"):
            raise InputRedirectError(f"{what}: redirected to a non-http URL ({urlparse(url).scheme}://…)")
        check_url_destination(url, policy, what)
        try:
            response = session.get(url, stream=True, allow_redirects=False,
                                   timeout=(limits.connect_timeout_s, read_timeout))
        except requests.Timeout:
            raise InputTimeoutError(f"{what}: {redact_url(url)} did not answer in time") from None
        except requests.RequestException as exc:
            raise InputUnreachableError(f"{what}: cannot reach {urlparse(url).hostname} ({type(exc).__name__})") from None
        if response.is_redirect:
            response.close()
            url = urljoin(url, response.headers["Location"])
            continue
        if response.ok:
            return response
        response.close()
        raise _http_status_error(response.status_code, what, url)
    raise InputRedirectError(f"{what}: more than {limits.max_redirects} redirects (a redirect loop?)")


def _http_status_error(status: int, what: str, url: str) -> InputDownloadError:
    where = redact_url(url)
    if status == 404 or status == 410:
        return InputNotFoundError(f"{what}: {where} answered HTTP {status} (no file there)")
    if status in (401, 403):
        return InputForbiddenError(f"{what}: {where} answered HTTP {status} (the link is private or expired)")
    return InputDownloadError(f"{what}: {where} answered HTTP {status}")


def _s3_chunks(url: str, what: str, max_bytes: int, s3_client) -> Iterator[bytes]:
    parsed = urlparse(url)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise InputNotFoundError(f"{what}: {url!r} names no bucket and key")
    if s3_client is None:
        from .s3_output import S3Settings, s3_client as make_client

        s3_client = make_client(S3Settings(bucket=bucket))
    try:
        size = s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if size > max_bytes:
            raise InputTooLargeError(f"{what}: the object is {size / 1024**2:.0f} MB, above the limit of {max_bytes // 1024**2} MB")
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        yield from body.iter_chunks(_CHUNK)
    except EndpointConnectionError:
        raise InputUnreachableError(f"{what}: cannot reach the S3 endpoint for s3://{bucket}") from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
            raise InputNotFoundError(f"{what}: s3://{bucket}/{key} does not exist") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise InputForbiddenError(f"{what}: access to s3://{bucket}/{key} is denied") from None
        raise InputDownloadError(f"{what}: reading s3://{bucket}/{key} failed ({code})") from None
    except BotoCoreError as exc:
        raise InputDownloadError(f"{what}: reading s3://{bucket}/{key} failed ({type(exc).__name__})") from None
