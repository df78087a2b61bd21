"""Fetching job inputs from a real local HTTP server and a real S3 API, with every limit and refusal exercised."""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import replace

import pytest
import requests

from driver.content_sniff import sniff_kind
from driver.input_fetch import InputLimits, fetch_input, redact_url
from driver.s3_output import S3Settings, s3_client
from driver.url_safety import AddressPolicy, is_public_address
from ugc_swap.core.errors import UgcSwapError
from ugc_swap.core.video.video_stream import ffmpeg_executable

from .file_server import FileServer, Route
from .moto_s3 import aws_test_credentials

LIMITS = InputLimits(download_timeout_s=20.0, connect_timeout_s=2.0)
LOCAL = AddressPolicy(frozenset({"127.0.0.1"}))


@pytest.fixture
def files():
    with FileServer() as server:
        yield server


def fetch(url, tmp_path, role="video", limits=LIMITS, policy=LOCAL, **kwargs):
    what = "source_video_url" if role == "video" else "avatar_image_url"
    return fetch_input(url, tmp_path / "job" / "input", role, what, limits, policy, **kwargs)


def failure(url, tmp_path, **kwargs) -> UgcSwapError:
    with pytest.raises(UgcSwapError) as caught:
        fetch(url, tmp_path, **kwargs)
    # Nothing half-written: neither the final name nor a partial file survives a failure.
    leftovers = list((tmp_path / "job").glob("*")) + list((tmp_path / "job").glob(".*"))
    assert leftovers == [], leftovers
    return caught.value


def test_video_and_image_arrive_checked(files, tmp_path, faceless_video, avatar_png):
    video = fetch(files.serve_file("/demo.mp4", faceless_video, "video/mp4") + "?X-Amz-Signature=abc", tmp_path)
    assert video.read_bytes() == faceless_video.read_bytes()
    image = fetch(files.serve_file("/face.png", avatar_png, "image/png"), tmp_path, role="image")
    assert sniff_kind(image.read_bytes()[:16]) == "png"


def test_redirects_are_followed(files, tmp_path, faceless_video):
    files.serve_file("/real.mp4", faceless_video)
    url = files.redirect("/short", files.redirect("/hop", "/real.mp4", status=301))
    assert fetch(url, tmp_path).stat().st_size == faceless_video.stat().st_size


@pytest.mark.parametrize(
    ("route", "code", "words"),
    [
        (Route(body=b"<!DOCTYPE html><html><body>Sign in to Google Drive</body></html>",
               headers={"Content-Type": "video/mp4"}), "input_wrong_type", "html page"),
        (Route(body=b'{"error": "expired"}'), "input_wrong_type", "json document"),
        (Route(status=404), "input_not_found", "HTTP 404"),
        (Route(status=403), "input_forbidden", "HTTP 403"),
        (Route(status=500), "input_download_failed", "HTTP 500"),
        (Route(body=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40), "invalid_video", "source_video_url"),
    ],
)
def test_bad_answers_name_what_arrived(files, tmp_path, route, code, words):
    files.routes["/x.mp4"] = route
    error = failure(files.url("/x.mp4"), tmp_path)
    assert error.code == code and words in error.message and "source_video_url" in error.message


def test_an_image_where_the_video_belongs(files, tmp_path, avatar_png):
    error = failure(files.serve_file("/video.mp4", avatar_png, "video/mp4"), tmp_path)
    assert error.code == "input_wrong_type" and "png image" in error.message


def test_a_video_where_the_image_belongs_and_a_broken_image(files, tmp_path, faceless_video, avatar_png):
    error = failure(files.serve_file("/face.jpg", faceless_video), tmp_path, role="image")
    assert error.code == "input_wrong_type" and "avatar_image_url" in error.message and "mp4" in error.message
    files.routes["/broken.png"] = Route(body=avatar_png.read_bytes()[:200])
    assert failure(files.url("/broken.png"), tmp_path, role="image").code == "input_wrong_type"


@pytest.mark.parametrize("keep, index_at_end", [(5000, False), (1 / 3, False), (1 / 2, True)])
def test_a_video_cut_short_is_refused_naming_the_input_not_the_worker(files, tmp_path, faceless_video, keep,
                                                                       index_at_end):
    """Cut off in its first bytes, after its index with a third of its pictures, or before an index kept at the
    end (as cameras write it): refused before any work, in words about the input, never a path, errno or call."""
    data = faceless_video.read_bytes()
    if index_at_end:
        moved = tmp_path / "index_at_end.mp4"
        subprocess.run([ffmpeg_executable(), "-v", "error", "-y", "-i", str(faceless_video), "-c", "copy", str(moved)],
                       check=True)
        data = moved.read_bytes()
    files.routes["/cut.mp4"] = Route(body=data[:keep if isinstance(keep, int) else int(len(data) * keep)])
    error = failure(files.url("/cut.mp4"), tmp_path)
    assert error.code == "invalid_video" and error.message.startswith("source_video_url:"), error.message
    for internal in (str(tmp_path), "/tmp", "Errno", "avcodec", "0x"):
        assert internal not in error.message, error.message


def test_redirect_loop(files, tmp_path):
    files.redirect("/a", "/b")
    files.redirect("/b", "/a")
    error = failure(files.url("/a"), tmp_path)
    assert error.code == "input_redirect_loop" and len(files.hits) == LIMITS.max_redirects + 1


def test_size_duration_and_resolution_caps(files, tmp_path, faceless_video):
    url = files.serve_file("/demo.mp4", faceless_video)
    too_big = failure(url, tmp_path, limits=replace(LIMITS, max_video_bytes=10_000))
    assert too_big.code == "input_too_large"
    too_long = failure(url, tmp_path, limits=replace(LIMITS, max_video_seconds=5))
    assert too_long.code == "input_too_long" and "8.0 s" in too_long.message
    too_wide = failure(url, tmp_path, limits=replace(LIMITS, max_video_long_side=320))
    assert too_wide.code == "input_resolution_too_high" and "640x360" in too_wide.message


def test_a_server_too_slow_to_finish_times_out(files, tmp_path, faceless_video):
    files.routes["/slow.mp4"] = Route(file=faceless_video, drip_delay_s=0.05)
    error = failure(files.url("/slow.mp4"), tmp_path, limits=replace(LIMITS, download_timeout_s=1.0))
    assert error.code == "input_timeout"


def test_unreachable_host(tmp_path):
    from driver.comfy_server import free_port

    error = failure(f"http://127.0.0.1:{free_port()}/video.mp4", tmp_path)
    assert error.code == "input_unreachable"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_refused_unless_allowed(files, tmp_path, faceless_video, host):
    url = files.serve_file("/demo.mp4", faceless_video).replace("127.0.0.1", host)
    error = failure(url, tmp_path, policy=AddressPolicy())
    assert error.code == "input_blocked_address" and files.hits == []


def test_redirect_to_a_private_address_is_refused(files, tmp_path, faceless_video):
    with FileServer() as internal:
        internal.serve_file("/secret.mp4", faceless_video)
        url = files.redirect("/innocent", internal.url("/secret.mp4"))
        only_front = AddressPolicy(frozenset({f"127.0.0.1:{files.port}"}))
        error = failure(url, tmp_path, policy=only_front)
        assert error.code == "input_blocked_address" and internal.hits == []


@pytest.mark.parametrize(
    ("address", "public"),
    [("169.254.169.254", False), ("10.1.2.3", False), ("192.168.0.1", False), ("100.100.100.200", False),
     ("::ffff:127.0.0.1", False), ("fd00:ec2::254", False), ("0.0.0.0", False), ("224.0.0.1", False),
     ("8.8.8.8", True), ("2606:4700:4700::1111", True)],
)
def test_address_classification(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_redact_url_drops_signatures_and_userinfo():
    assert redact_url("https://user:pw@bucket.s3.amazonaws.com/a/b.mp4?X-Amz-Signature=s3cr3t") == (
        "https://bucket.s3.amazonaws.com/a/b.mp4"
    )


def test_s3_inputs(s3_endpoint, monkeypatch, tmp_path, faceless_video):
    aws_test_credentials(monkeypatch)
    requests.post(s3_endpoint + "/moto-api/reset", timeout=5)
    client = s3_client(S3Settings(bucket="inputs", endpoint_url=s3_endpoint, region="us-east-1"))
    client.create_bucket(Bucket="inputs")
    client.upload_file(str(faceless_video), "inputs", "demos/demo.mp4")
    assert fetch("s3://inputs/demos/demo.mp4", tmp_path / "ok", s3_client=client).stat().st_size > 0
    assert failure("s3://inputs/demos/missing.mp4", tmp_path, s3_client=client).code == "input_not_found"
    small = replace(LIMITS, max_video_bytes=1000)
    assert failure("s3://inputs/demos/demo.mp4", tmp_path, s3_client=client, limits=small).code == "input_too_large"
