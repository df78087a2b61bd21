import pytest

from driver.job_request import InvalidRequestError, parse_job_request, webhook_problem

MAKE_COM = {
    "input": {
        "record_id": "recABC123",
        "source_video_url": "https://cdn.example.com/demo.mp4",
        "avatar_image_url": "https://cdn.example.com/face.jpg",
        "webhook_url": "https://hook.eu1.make.com/xyz",
    }
}


def test_make_com_request_as_sent():
    job = parse_job_request(MAKE_COM)
    assert (job.record_id, job.engine) == ("recABC123", "fast")
    assert job.source_video_url.endswith("demo.mp4") and job.avatar_image_url.endswith("face.jpg")
    assert job.segments == "0-5 swap, 5-15 keep, 15-20 swap, 20-30 keep"


def test_older_field_names_and_extras_are_accepted():
    job = parse_job_request({"input": {"record_id": "r1", "video_url": "s3://bucket/demo.mp4",
                                       "avatar_url": "http://x.example/a.png", "segments": "0-3 swap",
                                       "Name": "ignored", "extra": {"x": 1}}})
    assert job.source_video_url == "s3://bucket/demo.mp4" and job.webhook_url is None
    assert job.segments == "0-3 swap"


def test_json_list_plan_is_accepted():
    job = parse_job_request({"input": {**MAKE_COM["input"], "segments": [{"start": 0, "end": 2, "action": "swap"}]}})
    assert '"action": "swap"' in job.segments


def test_every_problem_is_named_in_one_error():
    with pytest.raises(InvalidRequestError) as caught:
        parse_job_request({"input": {"record_id": 7, "source_video_url": "ftp://x/y.mp4",
                                     "webhook_url": "not a url", "engine": "magic", "segments": "9-1 swap",
                                     "force": "yes"}})
    message = caught.value.message
    for expected in ("'record_id' must be a string", "'source_video_url' must be a http/https/s3 URL",
                     "missing 'avatar_image_url' (or 'avatar_url')", "'engine' must be one of fast",
                     "'segments' is not a valid plan: segment #1", "'force' must be true or false"):
        assert expected in message
    assert "webhook_url" not in message and caught.value.code == "invalid_request"


def test_a_bad_webhook_url_does_not_stop_the_job_but_is_reported():
    event = {"input": {**MAKE_COM["input"], "webhook_url": "hook.make.com/no-scheme"}}
    assert parse_job_request(event).webhook_url is None
    assert webhook_problem(event) == "'webhook_url' must be a http/https URL, got scheme 'none'"
    assert webhook_problem(MAKE_COM) is None and parse_job_request(MAKE_COM).force is False


@pytest.mark.parametrize("event", [None, [], "text", {"input": "x"}])
def test_non_object_requests_are_refused(event):
    with pytest.raises(InvalidRequestError, match="object"):
        parse_job_request(event)
