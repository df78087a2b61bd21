"""S3 upload against a real S3 API (moto_server on loopback), reached through boto3's normal credential chain."""

import os
from dataclasses import replace

import pytest
import requests

from driver.s3_output import S3Settings, UploadError, output_key, s3_client, upload_video
from ugc_swap.core.video.video_probe import probe_video

from .moto_s3 import aws_test_credentials


@pytest.fixture
def settings(s3_endpoint, monkeypatch):
    aws_test_credentials(monkeypatch)
    requests.post(s3_endpoint + "/moto-api/reset", timeout=5)
    result = S3Settings(bucket="ugc-results", endpoint_url=s3_endpoint, region="us-east-1",
                        multipart_threshold_bytes=5 * 1024**2)
    s3_client(result).create_bucket(Bucket="ugc-results")
    return result


def test_video_is_uploaded_as_mp4_and_playable_through_the_presigned_url(settings, sample_video, tmp_path):
    key = output_key(settings, "recABC/../x", "job42")
    assert key == "ugc-swap/recABC____x/job42.mp4"
    url = upload_video(sample_video, key, settings)
    head = s3_client(settings).head_object(Bucket=settings.bucket, Key=key)
    assert head["ContentType"] == "video/mp4"
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=604800" in url
    downloaded = tmp_path / "downloaded.mp4"
    downloaded.write_bytes(requests.get(url, timeout=30).content)
    assert downloaded.read_bytes() == sample_video.read_bytes()
    assert probe_video(downloaded).duration_s == pytest.approx(30.0)


def test_large_files_go_up_in_parts(settings, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(12 * 1024**2))
    upload_video(big, "ugc-swap/big.mp4", settings)
    etag = s3_client(settings).head_object(Bucket=settings.bucket, Key="ugc-swap/big.mp4")["ETag"]
    assert etag.strip('"').endswith("-3"), f"expected a 3-part multipart ETag, got {etag}"


def test_public_url_mode(settings, sample_video):
    public = replace(settings, url_mode="public", public_base_url="https://cdn.example.com/")
    assert upload_video(sample_video, "ugc-swap/r/j.mp4", public) == "https://cdn.example.com/ugc-swap/r/j.mp4"


def test_missing_bucket_is_an_upload_error_without_credentials_in_it(settings, sample_video):
    missing = replace(settings, bucket="no-such-bucket")
    with pytest.raises(UploadError, match="no-such-bucket") as caught:
        upload_video(sample_video, "k.mp4", missing)
    assert "testing-secret" not in str(caught.value) and caught.value.code == "upload_failed"
