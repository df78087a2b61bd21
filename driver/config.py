"""Driver configuration, read only from environment variables and validated at start in one go.

Every variable is listed in the README. Secrets (webhook secret, Airtable key) are read here and nowhere else;
AWS credentials are left to boto3's standard chain and never read by this code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ugc_swap.core.errors import UgcSwapError

from .s3_output import S3Settings
from .webhook import WebhookSettings


class ConfigError(UgcSwapError):
    code = "invalid_configuration"


@dataclass(frozen=True)
class DriverConfig:
    s3: S3Settings
    webhook: WebhookSettings
    job_timeout_s: float


def load_config(environ: Mapping[str, str]) -> DriverConfig:
    """Build the config from `environ`; raise one ConfigError naming every missing or invalid variable."""
    problems: list[str] = []

    def number(name: str, default: float, minimum: float, cast=float):
        raw = environ.get(name)
        if raw in (None, ""):
            return default
        try:
            value = cast(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value < minimum:
            problems.append(f"{name} must be at least {minimum}, got {raw!r}")
        return value

    bucket = environ.get("UGC_SWAP_S3_BUCKET", "")
    if not bucket:
        problems.append("UGC_SWAP_S3_BUCKET is missing (the bucket results are uploaded to)")
    url_mode = environ.get("UGC_SWAP_S3_URL_MODE", "presigned")
    if url_mode not in ("presigned", "public"):
        problems.append(f"UGC_SWAP_S3_URL_MODE must be 'presigned' or 'public', got {url_mode!r}")
    public_base = environ.get("UGC_SWAP_S3_PUBLIC_BASE_URL") or None
    if url_mode == "public" and not public_base:
        problems.append("UGC_SWAP_S3_PUBLIC_BASE_URL is missing (needed when UGC_SWAP_S3_URL_MODE=public)")
    s3 = S3Settings(
        bucket=bucket,
        prefix=environ.get("UGC_SWAP_S3_PREFIX", "ugc-swap/"),
        endpoint_url=environ.get("UGC_SWAP_S3_ENDPOINT_URL") or None,
        region=environ.get("UGC_SWAP_S3_REGION") or environ.get("AWS_REGION") or None,
        url_mode=url_mode,  # type: ignore[arg-type]
        presign_expiry_s=number("UGC_SWAP_S3_PRESIGN_EXPIRY_S", 7 * 24 * 3600, 60, int),
        public_base_url=public_base,
    )
    webhook = WebhookSettings(
        secret=environ.get("UGC_SWAP_WEBHOOK_SECRET") or None,
        attempts=number("UGC_SWAP_WEBHOOK_ATTEMPTS", 5, 1, int),
        timeout_s=number("UGC_SWAP_WEBHOOK_TIMEOUT_S", 10.0, 0.1),
    )
    job_timeout_s = number("UGC_SWAP_JOB_TIMEOUT_S", 1800.0, 10.0)
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))
    return DriverConfig(s3, webhook, job_timeout_s)
