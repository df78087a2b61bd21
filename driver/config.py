"""Driver configuration, read only from environment variables and validated at start in one go.

Every variable is listed in the README. Secrets (webhook secret, Airtable key, Pods API key, the C2PA signing key)
are read here and nowhere else, and kept out of every repr; AWS credentials are left to boto3's standard chain and never read here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ugc_swap.core.engines import engine_names
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.video.label import CORNERS, LABEL_MODES, LabelSettings

from .airtable_rows import AirtableSettings, airtable_settings_from_env
from .c2pa_credentials import C2paCredentials, credentials_from_env, trust_anchors
from .input_fetch import InputLimits
from .job_quality import QualitySettings
from .s3_output import S3Settings
from .url_safety import AddressPolicy
from .webhook import WebhookSettings

Number = TypeVar("Number", int, float)


class ConfigError(UgcSwapError):
    code = "invalid_configuration"


@dataclass(frozen=True)
class DriverConfig:
    s3: S3Settings | None
    webhook: WebhookSettings
    job_timeout_s: float
    limits: InputLimits = InputLimits()
    address_policy: AddressPolicy = AddressPolicy()
    airtable: AirtableSettings | None = None
    work_dir: Path = Path(tempfile.gettempdir()) / "ugc-swap"
    comfyui_url: str | None = None
    comfyui_cpu: bool | None = None  # None: CPU unless torch sees a GPU
    api_key: str | None = field(default=None, repr=False)
    min_free_disk_bytes: int = 2 * 1024**3
    quality: QualitySettings = QualitySettings()
    # What this worker offers (default: every registered engine); their models are checked at start.
    engines: tuple[str, ...] = field(default_factory=engine_names)
    models_dir: Path | None = None  # extra models folder for ComfyUI (a network volume, or models baked in)
    verify_model_hashes: bool = False
    # Signs every result's C2PA manifest; None only with UGC_SWAP_C2PA=off (the key is never in a repr).
    c2pa: C2paCredentials | None = None
    # What a `verify_url` request trusts: the signing chain's CA(s) and UGC_SWAP_C2PA_TRUST_ANCHORS.
    c2pa_trust_anchors: bytes | None = None
    require_consent: bool = False  # UGC_SWAP_REQUIRE_CONSENT=1: a request without `consent` is refused
    label: LabelSettings = LabelSettings()  # the visible disclosure label's default mode, text, corner and size
    watermark: bool = True  # the invisible mark in every swapped frame (UGC_SWAP_WATERMARK=off: none)


class _Reader:
    """Reads typed values and collects every problem, so one error can name them all."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or default

    def share(self, name: str, default: float) -> float:
        value = self.number(name, default, 0.0, float)
        if value > 1.0:
            self.problems.append(f"{name} is a share of frames, from 0 to 1, got {value:g}")
        return value

    def number(self, name: str, default: Number, minimum: Number, cast: Callable[[str], Number]) -> Number:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = cast(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value < minimum:
            self.problems.append(f"{name} must be at least {minimum}, got {raw!r}")
        return value

    def names(self, name: str, default: tuple[str, ...], options: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.text(name)
        if raw is None:
            return default
        chosen = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
        unknown = [part for part in chosen if part not in options]
        if unknown or not chosen:
            self.problems.append(f"{name} must be a comma list of {', '.join(options)}, got {raw!r}")
        return chosen

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in options:
            self.problems.append(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return value


def load_config(environ: Mapping[str, str], require_s3: bool = True) -> DriverConfig:
    """Build the config from `environ`; raise one ConfigError naming every missing or invalid variable."""
    read = _Reader(environ)
    s3 = _s3_settings(read, require_s3)
    webhook = WebhookSettings(
        secret=read.text("UGC_SWAP_WEBHOOK_SECRET"),
        attempts=read.number("UGC_SWAP_WEBHOOK_ATTEMPTS", 5, 1, int),
        timeout_s=read.number("UGC_SWAP_WEBHOOK_TIMEOUT_S", 10.0, 0.1, float),
    )
    limits = InputLimits(
        max_video_bytes=read.number("UGC_SWAP_MAX_VIDEO_MB", 500, 1, int) * 1024**2,
        max_image_bytes=read.number("UGC_SWAP_MAX_IMAGE_MB", 25, 1, int) * 1024**2,
        max_video_seconds=read.number("UGC_SWAP_MAX_VIDEO_SECONDS", 180.0, 1.0, float),
        max_video_long_side=read.number("UGC_SWAP_MAX_VIDEO_LONG_SIDE", 3840, 64, int),
        max_video_short_side=read.number("UGC_SWAP_MAX_VIDEO_SHORT_SIDE", 2160, 64, int),
        download_timeout_s=read.number("UGC_SWAP_DOWNLOAD_TIMEOUT_S", 300.0, 1.0, float),
    )
    comfyui_url = read.text("UGC_SWAP_COMFYUI_URL")
    if comfyui_url and not comfyui_url.startswith(("http://", "https://")):
        read.problems.append(f"UGC_SWAP_COMFYUI_URL must be an http(s) URL, got {comfyui_url!r}")
    device = read.choice("UGC_SWAP_COMFYUI_DEVICE", "auto", ("auto", "cpu", "gpu"))
    airtable = airtable_settings_from_env(environ, read.problems)
    config = DriverConfig(
        s3=s3,
        webhook=webhook,
        job_timeout_s=read.number("UGC_SWAP_JOB_TIMEOUT_S", 1800.0, 10.0, float),
        limits=limits,
        address_policy=AddressPolicy.from_setting(read.text("UGC_SWAP_ALLOWED_PRIVATE_HOSTS")),
        airtable=airtable,
        work_dir=Path(read.text("UGC_SWAP_WORK_DIR", str(DriverConfig.work_dir))).expanduser(),
        comfyui_url=comfyui_url,
        comfyui_cpu={"auto": None, "cpu": True, "gpu": False}.get(device),
        api_key=read.text("UGC_SWAP_API_KEY"),
        min_free_disk_bytes=read.number("UGC_SWAP_MIN_FREE_DISK_MB", 2048, 0, int) * 1024**2,
        quality=QualitySettings(
            identity_threshold=read.number("UGC_SWAP_IDENTITY_THRESHOLD", 0.6, 0.0, float),
            identity_min_margin=read.number("UGC_SWAP_IDENTITY_MARGIN", 0.15, 0.0, float),
            identity_action=read.choice("UGC_SWAP_IDENTITY_ACTION", "warn", ("warn", "fail")),  # type: ignore[arg-type]
            min_coverage=read.share("UGC_SWAP_MIN_COVERAGE", 0.8),
            coverage_action=read.choice("UGC_SWAP_COVERAGE_ACTION", "fail", ("fail", "review")),  # type: ignore[arg-type]
            price_per_s=read.number("UGC_SWAP_PRICE_PER_S", -1.0, 0.0, float) if read.text("UGC_SWAP_PRICE_PER_S") else None,
        ),
        engines=read.names("UGC_SWAP_ENGINES", engine_names(), engine_names()),
        models_dir=Path(models_dir).expanduser() if (models_dir := read.text("UGC_SWAP_MODELS_DIR")) else None,
        verify_model_hashes=read.choice("UGC_SWAP_VERIFY_MODEL_HASHES", "0", ("0", "1")) == "1",
        c2pa=(c2pa := _c2pa_credentials(read)),
        c2pa_trust_anchors=trust_anchors(c2pa, read.text("UGC_SWAP_C2PA_TRUST_ANCHORS")),
        require_consent=read.choice("UGC_SWAP_REQUIRE_CONSENT", "0", ("0", "1")) == "1",
        label=LabelSettings(
            mode=read.choice("UGC_SWAP_LABEL", "none", LABEL_MODES),  # type: ignore[arg-type]
            text=read.text("UGC_SWAP_LABEL_TEXT", LabelSettings.text) or LabelSettings.text,
            corner=read.choice("UGC_SWAP_LABEL_CORNER", LabelSettings.corner, CORNERS),
            size=read.share("UGC_SWAP_LABEL_SIZE", LabelSettings.size)),
        watermark=read.choice("UGC_SWAP_WATERMARK", "on", ("on", "off")) == "on",
    )
    if read.problems:
        raise ConfigError("invalid configuration: " + "; ".join(read.problems))
    return config


def _c2pa_credentials(read: _Reader) -> C2paCredentials | None:
    if read.choice("UGC_SWAP_C2PA", "on", ("on", "off")) == "off":
        return None
    before = len(read.problems)
    credentials = credentials_from_env(read.environ, read.problems)
    if credentials is None and len(read.problems) == before:
        read.problems.append("results are marked as AI-generated with a signed C2PA manifest (UGC_SWAP_C2PA=on, the "
                             "default) but no signing certificate is set: give UGC_SWAP_C2PA_CERT_CHAIN and "
                             "UGC_SWAP_C2PA_KEY (PEM, or their _FILE forms naming files), or set UGC_SWAP_C2PA=off "
                             "to deliver unmarked results")
    return credentials


def _s3_settings(read: _Reader, required: bool) -> S3Settings | None:
    bucket = read.text("UGC_SWAP_S3_BUCKET")
    if not bucket and required:
        read.problems.append("UGC_SWAP_S3_BUCKET is missing (the bucket results are uploaded to)")
    url_mode = read.choice("UGC_SWAP_S3_URL_MODE", "presigned", ("presigned", "public"))
    public_base = read.text("UGC_SWAP_S3_PUBLIC_BASE_URL")
    if url_mode == "public" and not public_base:
        read.problems.append("UGC_SWAP_S3_PUBLIC_BASE_URL is missing (needed when UGC_SWAP_S3_URL_MODE=public)")
    if not bucket:
        return None
    return S3Settings(
        bucket=bucket,
        prefix=read.text("UGC_SWAP_S3_PREFIX", "ugc-swap/"),
        endpoint_url=read.text("UGC_SWAP_S3_ENDPOINT_URL"),
        region=read.text("UGC_SWAP_S3_REGION") or read.text("AWS_REGION"),
        url_mode=url_mode,  # type: ignore[arg-type]
        presign_expiry_s=read.number("UGC_SWAP_S3_PRESIGN_EXPIRY_S", 7 * 24 * 3600, 60, int),
        output_ttl_days=read.number("UGC_SWAP_OUTPUT_TTL_DAYS", 0, 1, int) if read.text("UGC_SWAP_OUTPUT_TTL_DAYS")
        else None,
        public_base_url=public_base,
    )
