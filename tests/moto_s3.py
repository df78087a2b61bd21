"""A real S3 API for tests: moto_server on loopback, reached through boto3's normal credential chain."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from driver.comfy_server import free_port, wait_until_answering

# Fake credentials: moto accepts any. Tests also scan outputs for these strings to prove they never leak.
TEST_KEY_ID = "testing-key-id"
TEST_SECRET = "testing-secret"


def aws_test_credentials(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url, 30, server, probe_path="/moto-api/data.json")
        yield url
    finally:
        server.terminate()
        server.wait(10)
