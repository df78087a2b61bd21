"""Signed webhook delivery: JSON POST, HMAC-SHA256 over timestamp and body, idempotency key, retries with backoff.

Receivers verify with `verify_signature`: HMAC-SHA256(secret, f"{timestamp}.{body}") in hex, sent as
`X-UGC-Swap-Signature: sha256=<hex>` beside `X-UGC-Swap-Timestamp`. A failed delivery is logged and reported to
the caller, never raised: the job's own result must not be lost because Make.com was briefly down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)


SIGNATURE_HEADER = "X-UGC-Swap-Signature"
TIMESTAMP_HEADER = "X-UGC-Swap-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class WebhookSettings:
    secret: str | None = field(default=None, repr=False)
    attempts: int = 5
    backoff_s: float = 0.5
    timeout_s: float = 10.0


@dataclass(frozen=True)
class WebhookDelivery:
    delivered: bool
    status_code: int | None
    error: str | None = None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, max_age_s: float = 300.0) -> bool:
    """What a receiver runs: constant-time compare, and refuse replays older than `max_age_s`."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def _session(settings: WebhookSettings) -> requests.Session:
    retry = Retry(
        total=settings.attempts - 1,
        connect=settings.attempts - 1,
        read=settings.attempts - 1,
        status=settings.attempts - 1,
        backoff_factor=settings.backoff_s,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods={"POST"},
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def send_webhook(url: str, payload: dict[str, Any], idempotency_key: str, settings: WebhookSettings) -> WebhookDelivery:
    """POST `payload` to `url`; retried on connection errors, timeouts, 429 and 5xx. Never raises."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, IDEMPOTENCY_HEADER: idempotency_key}
    if settings.secret:
        headers[SIGNATURE_HEADER] = sign(settings.secret, timestamp, body)
    host = urlparse(url).netloc  # the path of a Make.com hook URL is its secret: never logged
    try:
        with _session(settings) as session:
            response = session.post(url, data=body, headers=headers, timeout=settings.timeout_s)
    except requests.RequestException as exc:
        log.error("webhook to %s failed after %d attempts: %s", host, settings.attempts, type(exc).__name__)
        return WebhookDelivery(False, None, f"{type(exc).__name__} after {settings.attempts} attempts")
    if not response.ok:
        log.error("webhook to %s answered HTTP %d after %d attempts", host, response.status_code, settings.attempts)
        return WebhookDelivery(False, response.status_code, f"HTTP {response.status_code}")
    return WebhookDelivery(True, response.status_code)
