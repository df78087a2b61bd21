"""Webhook delivery against a real HTTP receiver on loopback."""

import json
import logging
import time

from driver.comfy_server import free_port
from driver.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSettings,
    send_webhook,
    sign,
    verify_signature,
)

from .http_receiver import ScriptedReceiver

SECRET = "test-webhook-secret-0123456789"
FAST = WebhookSettings(secret=SECRET, attempts=4, backoff_s=0.01, timeout_s=2.0)
PAYLOAD = {"record_id": "rec123", "status": "Complete", "output_video_url": "https://example.invalid/v.mp4"}


def test_delivery_is_signed_and_carries_idempotency_key():
    with ScriptedReceiver() as receiver:
        result = send_webhook(receiver.url + "/hook/abc", PAYLOAD, "rec123:job1", FAST)
    assert result.delivered and result.status_code == 200
    [request] = receiver.requests
    assert json.loads(request.body) == PAYLOAD
    assert request.headers[IDEMPOTENCY_HEADER] == "rec123:job1"
    assert verify_signature(SECRET, request.headers[TIMESTAMP_HEADER], request.body, request.headers[SIGNATURE_HEADER])


def test_no_signature_header_without_a_secret():
    with ScriptedReceiver() as receiver:
        send_webhook(receiver.url, PAYLOAD, "k", WebhookSettings(secret=None, backoff_s=0.01))
    assert SIGNATURE_HEADER not in receiver.requests[0].headers


def test_server_errors_and_rate_limits_are_retried_with_the_same_key():
    script = [(500, 0, {}), (503, 0, {}), (429, 0, {"Retry-After": "0"}), (200, 0, {})]
    with ScriptedReceiver(script) as receiver:
        result = send_webhook(receiver.url, PAYLOAD, "rec123:job2", FAST)
    assert result.delivered
    assert len(receiver.requests) == 4
    assert {r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests} == {"rec123:job2"}


def test_a_receiver_that_times_out_is_retried():
    script = [(200, 1.5, {}), (200, 0, {})]
    with ScriptedReceiver(script) as receiver:
        result = send_webhook(receiver.url, PAYLOAD, "k", WebhookSettings(SECRET, attempts=3, backoff_s=0.01, timeout_s=0.5))
    assert result.delivered and len(receiver.requests) == 2


def test_final_failure_is_logged_and_returned_not_raised(caplog):
    with ScriptedReceiver([(503, 0, {})]) as receiver, caplog.at_level(logging.ERROR, logger="driver.webhook"):
        result = send_webhook(receiver.url + "/hook/secret-path-token", PAYLOAD, "k", FAST)
    assert not result.delivered and result.status_code == 503
    assert len(receiver.requests) == FAST.attempts
    assert "HTTP 503" in caplog.text and "secret-path-token" not in caplog.text


def test_unreachable_receiver_is_reported(caplog):
    with caplog.at_level(logging.ERROR, logger="driver.webhook"):
        result = send_webhook(f"http://127.0.0.1:{free_port()}/hook", PAYLOAD, "k", FAST)
    assert not result.delivered and result.status_code is None
    assert "ConnectionError" in result.error and "webhook to 127.0.0.1" in caplog.text


def test_signature_check_refuses_tampering_and_replays():
    now = str(int(time.time()))
    body = b'{"status":"Complete"}'
    good = sign(SECRET, now, body)
    assert verify_signature(SECRET, now, body, good)
    assert not verify_signature(SECRET, now, b'{"status":"Failed"}', good)
    assert not verify_signature("other-secret", now, body, good)
    stale = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, stale, body, sign(SECRET, stale, body))


def test_retry_warnings_never_show_the_hook_path(caplog):
    with ScriptedReceiver([(503, 0, {}), (200, 0, {})]) as receiver, caplog.at_level(logging.DEBUG):
        result = send_webhook(receiver.url + "/hook/s3cr3t-path", PAYLOAD, "k", FAST)
    assert result.delivered and any(r.getMessage().startswith("Retry") for r in caplog.records)
    assert "s3cr3t-path" not in caplog.text
