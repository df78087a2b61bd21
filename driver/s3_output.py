"""Publishing the finished video to S3 (or any S3-compatible endpoint) and handing back a URL for Make.com.

Credentials come only from boto3's standard chain (environment, shared config, instance/task role): nothing here
takes a key. Retries are botocore's own ("standard" mode), multipart upload kicks in for large files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ugc_swap.core.errors import UgcSwapError

UrlMode = Literal["presigned", "public"]
RETENTION_TAG = "ugc-swap-retention"


class UploadError(UgcSwapError):
    code = "upload_failed"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = "ugc-swap/"
    endpoint_url: str | None = None
    region: str | None = None
    url_mode: UrlMode = "presigned"
    presign_expiry_s: int = 7 * 24 * 3600
    public_base_url: str | None = None
    multipart_threshold_bytes: int = 64 * 1024**2
    # UGC_SWAP_OUTPUT_TTL_DAYS: results are tagged for the bucket's lifecycle rule to delete after this many days
    # (docs/compliance.md), and no presigned URL outlives them.
    output_ttl_days: int | None = None

    @property
    def url_expiry_s(self) -> int:
        if self.output_ttl_days is None:
            return self.presign_expiry_s
        return min(self.presign_expiry_s, self.output_ttl_days * 24 * 3600)

    @property
    def object_tags(self) -> dict[str, str]:
        """What every stored object is put with (`Tagging`, URL-encoded, for the lifecycle rule's filter); empty
        without a retention period."""
        return {"Tagging": f"{RETENTION_TAG}={self.output_ttl_days}d"} if self.output_ttl_days else {}


def record_prefix(settings: S3Settings, record_id: str) -> str:
    """`<prefix><record_id>/`: everything of one record lives under it; the id is reduced to safe characters."""
    safe_record = re.sub(r"[^A-Za-z0-9_-]", "_", record_id)[:100] or "record"
    return f"{settings.prefix}{safe_record}/"


def output_key(settings: S3Settings, record_id: str, job_id: str) -> str:
    """`<prefix><record_id>/<job_id>.mp4`."""
    return f"{record_prefix(settings, record_id)}{job_id}.mp4"


def video_url(client, settings: S3Settings, key: str) -> str:
    """The URL the customer's row gets for `key`: public base + key, or a presigned GET."""
    if settings.url_mode == "public":
        return f"{settings.public_base_url.rstrip('/')}/{key}"
    return client.generate_presigned_url("get_object", Params={"Bucket": settings.bucket, "Key": key},
                                         ExpiresIn=settings.url_expiry_s)


def s3_client(settings: S3Settings):
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 6},
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config)


def upload_video(path: Path, key: str, settings: S3Settings, client=None, content_type: str = "video/mp4") -> str:
    """Upload `path` under `key` (video/mp4 unless told) and return the URL the customer's row gets."""
    client = client or s3_client(settings)
    transfer = TransferConfig(multipart_threshold=settings.multipart_threshold_bytes,
                              multipart_chunksize=max(settings.multipart_threshold_bytes, 5 * 1024**2))
    try:
        extra = {"ContentType": content_type, **settings.object_tags}
        client.upload_file(str(path), settings.bucket, key, ExtraArgs=extra, Config=transfer)
        return video_url(client, settings, key)
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        # botocore messages name the bucket and operation, never the credentials.
        raise UploadError(f"upload to s3://{settings.bucket}/{key} failed: {exc}") from None
