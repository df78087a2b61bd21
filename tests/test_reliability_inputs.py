"""Every bad input Make.com users send, through a real Pods worker: a stable code, a clear message, a failure
webhook, Airtable Failed with the reason, nothing in S3, no files left (see docs/reliability.md)."""

from __future__ import annotations

import pytest
import requests

from driver.comfy_server import free_port

from . import bad_media
from .file_server import Route
from .worker_check import assert_failed_everywhere, runpod_failure
from .worker_stack import PODS_API_KEY, running_worker

AUTH = {"Authorization": f"Bearer {PODS_API_KEY}"}
LIMITS = {"UGC_SWAP_MAX_VIDEO_MB": "20", "UGC_SWAP_MAX_VIDEO_SECONDS": "31", "UGC_SWAP_MAX_VIDEO_LONG_SIDE": "1000",
          "UGC_SWAP_MAX_VIDEO_SHORT_SIDE": "1000", "UGC_SWAP_DOWNLOAD_TIMEOUT_S": "20"}


@pytest.fixture(scope="module")
def worker(s3_endpoint, tmp_path_factory):
    args = ["-m", "driver", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with running_worker(s3_endpoint, tmp_path_factory.mktemp("bad_inputs"), args, "/health", **LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def media(tmp_path_factory, sample_video):
    folder = tmp_path_factory.mktemp("bad_media")
    return {
        "audio_only": bad_media.audio_only(sample_video, folder / "voice.mp4"),
        "two_people": bad_media.two_people(folder / "two.png"),
        "no_face": bad_media.no_face(folder / "coffee.png"),
        "oversized": bad_media.oversized(folder / "huge.mp4", 21),
        "long": bad_media.long_video(folder / "long.mp4", 33.0),
        "wide": bad_media.wide_video(folder / "wide.mp4"),
        "grey_photo": bad_media.grey_photo(folder / "grey.png"),
    }


def run_failing(worker, request: dict, code: str) -> dict:
    stack, api = worker
    answer = requests.post(f"{api}/runsync?wait=300000", json=request, headers=AUTH, timeout=400).json()
    assert answer["status"] == "FAILED", answer
    assert runpod_failure(answer)["error_code"] == code, answer["error"]
    assert_failed_everywhere(stack, request, code, answer["output"])
    return answer["output"]


def with_video(stack, request: dict, url: str) -> dict:
    request["input"]["source_video_url"] = url
    return request


VIDEO_CASES = {
    # case name: (route or media key, expected code, words the message must hold)
    "unreachable_host": (None, "input_unreachable", "cannot reach 127.0.0.1"),
    "not_found_404": (Route(status=404), "input_not_found", "HTTP 404"),
    "forbidden_403": (Route(status=403), "input_forbidden", "HTTP 403"),
    "html_page": (Route(body=b"<!doctype html><html><title>Google Drive</title></html>",
                        headers={"Content-Type": "text/html"}), "input_wrong_type", "html page"),
    "truncated_mp4": ("truncated", "invalid_video", "source_video_url"),
    "no_video_stream": ("audio_only", "invalid_video", "no video stream"),
    "over_size_cap": ("oversized", "input_too_large", "above the limit of 20 MB"),
    "over_duration_cap": ("long", "input_too_long", "longer than the limit of 31 s"),
    "over_resolution_cap": ("wide", "input_resolution_too_high", "1280x720"),
    "image_as_video": ("two_people", "input_wrong_type", "png image"),
}


@pytest.mark.parametrize("case", list(VIDEO_CASES))
def test_bad_source_video(worker, media, sample_video, avatar_png, case):
    stack, _ = worker
    source, code, words = VIDEO_CASES[case]
    request = stack.make_request(sample_video, avatar_png, f"video-{case}")
    path = f"/video-{case}/bad.mp4"
    if source is None:
        url = f"http://127.0.0.1:{free_port()}/gone.mp4"
    elif isinstance(source, Route):
        stack.files.routes[path] = source
        url = stack.files.url(path)
    elif source == "truncated":
        stack.files.routes[path] = Route(body=sample_video.read_bytes()[:20000])
        url = stack.files.url(path)
    else:
        url = stack.files.serve_file(path, media[source])
    output = run_failing(worker, with_video(stack, request, url), code)
    assert words in output["error_message"], output


def test_redirect_loop(worker, sample_video, avatar_png):
    stack, _ = worker
    request = stack.make_request(sample_video, avatar_png, "redirect-loop")
    stack.files.redirect("/loop/a", "/loop/b")
    stack.files.redirect("/loop/b", "/loop/a")
    run_failing(worker, with_video(stack, request, stack.files.url("/loop/a")), "input_redirect_loop")


@pytest.mark.parametrize("how", ["metadata_ip", "private_ip", "dns_name", "redirect"])
def test_private_addresses_are_refused(worker, sample_video, avatar_png, how):
    stack, _ = worker
    request = stack.make_request(sample_video, avatar_png, f"ssrf-{how}")
    url = {
        "metadata_ip": "http://169.254.169.254/latest/meta-data/iam/video.mp4",
        "private_ip": "http://10.0.0.7/video.mp4",
        "dns_name": f"http://localhost:{stack.files.port}/ssrf-{how}/video.mp4",
        "redirect": stack.files.redirect("/ssrf/hop", "http://169.254.169.254/latest/meta-data/"),
    }[how]
    output = run_failing(worker, with_video(stack, request, url), "input_blocked_address")
    assert "non-public address" in output["error_message"]


@pytest.mark.parametrize("case, code", [
    pytest.param("no_face", "avatar_no_face", id="no_face"),
    pytest.param("two_people", "avatar_multiple_faces", id="several_faces"),
    pytest.param("not_an_image", "input_wrong_type", id="not_an_image"),
    pytest.param("grey_photo", "avatar_low_quality", id="black_and_white"),
])
def test_bad_avatar(worker, media, sample_video, avatar_png, case, code):
    """A photo that cannot give a good swap is refused before the video is downloaded: the customer hears in
    seconds, and the worker never fetches the video (the file server's log shows it was not asked for)."""
    stack, _ = worker
    request = stack.make_request(sample_video, avatar_png, f"avatar-{case}")
    if case == "not_an_image":
        url = stack.serve_text_as(f"/avatar-{case}/face.png", b"%PDF-1.4 not an image")
    else:
        url = stack.files.serve_file(f"/avatar-{case}/face.png", media[case], "image/png")
    request["input"]["avatar_image_url"] = url
    output = run_failing(worker, request, code)
    assert not [hit for hit in stack.files.hits if hit.startswith(f"/avatar-{case}/video.mp4")]
    if case == "grey_photo":
        assert "no colour" in output["error_message"] and "avatar photo:" in output["error_message"]


@pytest.mark.parametrize("change, words", [
    pytest.param({"source_video_url": None}, "missing 'source_video_url'", id="missing_field"),
    pytest.param({"record_id": 12345}, "'record_id' must be a string", id="wrong_type"),
    pytest.param({"avatar_image_url": "file:///etc/passwd"}, "'avatar_image_url' must be a http/https/s3 URL",
                 id="non_http_scheme"),
])
def test_malformed_request(worker, sample_video, avatar_png, change, words):
    stack, _ = worker
    request = stack.make_request(sample_video, avatar_png, "malformed")
    record_id = request["input"]["record_id"]
    for key, value in change.items():
        if value is None:
            del request["input"][key]
        else:
            request["input"][key] = value
    _, api = worker
    answer = requests.post(f"{api}/runsync?wait=60000", json=request, headers=AUTH, timeout=90).json()
    failure = runpod_failure(answer)
    assert answer["status"] == "FAILED" and words in failure["error_message"] and failure["error_code"] == "invalid_request"
    if isinstance(request["input"].get("record_id"), str):
        assert_failed_everywhere(stack, request, "invalid_request", answer["output"])
    else:  # no usable record id: nothing to update in Airtable, but the webhook still says what went wrong
        assert stack.airtable.fields_of(record_id)["Status"] == "Pending"
        assert any(b["status"] == "Failed" and words in b["error_message"] for b in stack.webhook_bodies())


@pytest.mark.parametrize("webhook", [pytest.param("hook.make.com/no-scheme", id="malformed"),
                                     pytest.param("http://127.0.0.1:{closed}/hook", id="unreachable")])
def test_bad_webhook_url_still_completes_and_reports_it(worker, sample_video, avatar_png, webhook):
    stack, api = worker
    request = stack.make_request(sample_video, avatar_png, "bad-webhook", segments="0-1 swap, 1-end keep")
    request["input"]["webhook_url"] = webhook.format(closed=free_port())
    answer = requests.post(f"{api}/runsync?wait=300000", json=request, headers=AUTH, timeout=400).json()
    assert answer["status"] == "COMPLETED", answer
    output = answer["output"]
    assert output["status"] == "Complete" and output["webhook"]["delivered"] is False and output["webhook"]["error"]
    assert stack.airtable.fields_of(request["input"]["record_id"])["Status"] == "Complete"
