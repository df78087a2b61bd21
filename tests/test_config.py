"""Worker configuration comes only from the environment and is checked in one go at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from driver.c2pa_credentials import make_chain
from driver.config import ConfigError, load_config

BASE = {"UGC_SWAP_S3_BUCKET": "results", "UGC_SWAP_C2PA": "off"}


def test_defaults_need_only_a_bucket_and_a_word_on_marking():
    config = load_config(BASE)
    assert config.c2pa is None and config.require_consent is False
    assert config.s3.bucket == "results" and config.airtable is None and config.comfyui_cpu is None
    assert config.limits.max_video_bytes == 500 * 1024**2 and config.address_policy.allowed_private == frozenset()


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        load_config({"UGC_SWAP_S3_URL_MODE": "public", "UGC_SWAP_JOB_TIMEOUT_S": "soon",
                     "UGC_SWAP_WEBHOOK_ATTEMPTS": "0", "UGC_SWAP_MAX_VIDEO_MB": "lots",
                     "UGC_SWAP_COMFYUI_DEVICE": "tpu", "UGC_SWAP_COMFYUI_URL": "localhost:8188",
                     "UGC_SWAP_AIRTABLE_API_KEY": "patSECRET.value"})
    message = caught.value.message
    for expected in ("UGC_SWAP_S3_BUCKET is missing", "UGC_SWAP_S3_PUBLIC_BASE_URL is missing",
                     "UGC_SWAP_JOB_TIMEOUT_S must be a number", "UGC_SWAP_WEBHOOK_ATTEMPTS must be at least 1",
                     "UGC_SWAP_MAX_VIDEO_MB must be a number", "UGC_SWAP_COMFYUI_DEVICE must be one of",
                     "UGC_SWAP_COMFYUI_URL must be an http(s) URL", "UGC_SWAP_AIRTABLE_BASE_ID",
                     "UGC_SWAP_AIRTABLE_TABLE"):
        assert expected in message
    assert "patSECRET" not in message


def test_limits_policy_and_worker_settings_are_read():
    config = load_config({**BASE, "UGC_SWAP_MAX_VIDEO_MB": "50", "UGC_SWAP_MAX_VIDEO_SECONDS": "60",
                          "UGC_SWAP_ALLOWED_PRIVATE_HOSTS": "127.0.0.1:8001, minio.internal",
                          "UGC_SWAP_COMFYUI_DEVICE": "gpu", "UGC_SWAP_WORK_DIR": "/srv/ugc",
                          "UGC_SWAP_API_KEY": "pods-key", "UGC_SWAP_WEBHOOK_SECRET": "whsec"})
    assert config.limits.max_video_bytes == 50 * 1024**2 and config.limits.max_video_seconds == 60
    assert config.address_policy.allows("127.0.0.1", 8001) and not config.address_policy.allows("127.0.0.1", 8002)
    assert config.address_policy.allows("MinIO.internal", 9000)
    assert config.comfyui_cpu is False and config.work_dir == Path("/srv/ugc")
    assert "pods-key" not in repr(config) and "whsec" not in repr(config)


def test_the_cli_may_run_without_a_bucket():
    assert load_config({"UGC_SWAP_C2PA": "off"}, require_s3=False).s3 is None


def test_marking_is_on_by_default_and_a_worker_without_a_certificate_refuses_to_start():
    with pytest.raises(ConfigError, match="no signing certificate is set: give UGC_SWAP_C2PA_CERT_CHAIN"):
        load_config({"UGC_SWAP_S3_BUCKET": "results"})


def test_the_signer_comes_as_pem_text_or_as_files_and_the_key_stays_out_of_sight(tmp_path):
    credentials, _ = make_chain("ugc-swap test")
    as_text = load_config({"UGC_SWAP_S3_BUCKET": "results", "UGC_SWAP_C2PA_CERT_CHAIN": credentials.chain_pem.decode(),
                           "UGC_SWAP_C2PA_KEY": credentials.key_pem.decode(), "UGC_SWAP_REQUIRE_CONSENT": "1"})
    assert as_text.c2pa == credentials and as_text.require_consent
    key_line = credentials.key_pem.decode().splitlines()[1]
    assert key_line not in repr(as_text) and key_line not in repr(as_text.c2pa)
    (tmp_path / "chain.pem").write_bytes(credentials.chain_pem)
    (tmp_path / "key.pem").write_bytes(credentials.key_pem)
    as_files = load_config({"UGC_SWAP_S3_BUCKET": "results", "UGC_SWAP_C2PA_CERT_CHAIN_FILE": str(tmp_path / "chain.pem"),
                            "UGC_SWAP_C2PA_KEY_FILE": str(tmp_path / "key.pem")})
    assert as_files.c2pa == credentials


@pytest.mark.parametrize("change, named", [
    ({"UGC_SWAP_C2PA_KEY": None}, "UGC_SWAP_C2PA_KEY (or UGC_SWAP_C2PA_KEY_FILE) is missing"),
    ({"UGC_SWAP_C2PA_KEY": "other"}, "UGC_SWAP_C2PA_KEY does not belong to the first certificate"),
    ({"UGC_SWAP_C2PA_CERT_CHAIN": "not a certificate"}, "UGC_SWAP_C2PA_CERT_CHAIN: not a PEM certificate chain"),
    ({"UGC_SWAP_C2PA_KEY_FILE": "/nonexistent/key.pem"}, "set UGC_SWAP_C2PA_KEY or UGC_SWAP_C2PA_KEY_FILE, not both"),
])
def test_a_signer_that_cannot_sign_is_named(change, named):
    credentials, _ = make_chain("ugc-swap test")
    other, _ = make_chain("someone else")
    env = {"UGC_SWAP_S3_BUCKET": "results", "UGC_SWAP_C2PA_CERT_CHAIN": credentials.chain_pem.decode(),
           "UGC_SWAP_C2PA_KEY": credentials.key_pem.decode()}
    for name, value in change.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = other.key_pem.decode() if value == "other" else value
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_config(env)
    assert credentials.key_pem.decode().splitlines()[1] not in caught.value.message
