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


def test_with_a_retention_period_results_are_tagged_for_deletion_and_no_url_outlives_them(settings, tmp_path):
    from driver.job_ledger import JobLedger

    kept = replace(settings, output_ttl_days=2)
    video = tmp_path / "result.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(1000))
    key = output_key(kept, "recTTL", "job1")
    url = upload_video(video, key, kept)
    client = s3_client(kept)
    tags = client.get_object_tagging(Bucket=kept.bucket, Key=key)["TagSet"]
    assert tags == [{"Key": "ugc-swap-retention", "Value": "2d"}]
    assert f"X-Amz-Expires={2 * 24 * 3600}" in url
    preview = key.removesuffix(".mp4") + "_preview.jpg"
    upload_video(video, preview, kept, content_type="image/jpeg")
    # A repeat of the record answers with the same video, both its links signed afresh...
    ledger = JobLedger(client, kept, stale_after_s=60)
    ledger.record_complete("recTTL", {"output_video_url": url, "preview_url": "old", "status": "Complete"}, key)
    receipt_tags = client.get_object_tagging(Bucket=kept.bucket, Key="ugc-swap/recTTL/_result.json")["TagSet"]
    assert receipt_tags == tags
    again = ledger.finished("recTTL")
    assert again["preview_url"] != "old" and "_preview.jpg" in again["preview_url"]
    assert requests.get(again["preview_url"], timeout=30).status_code == 200
    # ... until the lifecycle rule has deleted the video: then the record is made again, not answered with a 404.
    client.delete_object(Bucket=kept.bucket, Key=key)
    assert ledger.finished("recTTL") is None
    assert "X-Amz-Expires=604800" in upload_video(video, key, settings), "without a retention period: 7 days"
