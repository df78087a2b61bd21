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


def test_who_gets_the_face_defaults_to_the_main_face_and_a_reference_implies_reference():
    assert parse_job_request(MAKE_COM).options["target"] == "main"
    by_time = parse_job_request({"input": {**MAKE_COM["input"], "target_face_at_s": "12.5"}})  # Airtable sends text
    assert by_time.options == {"target": "reference", "target_face_at_s": 12.5}
    by_photo = parse_job_request({"input": {**MAKE_COM["input"], "target": "reference",
                                            "target_face_url": "https://cdn.example.com/who.jpg"}})
    assert by_photo.target_face_url.endswith("who.jpg") and by_photo.options["target"] == "reference"
    assert parse_job_request({"input": {**MAKE_COM["input"], "target": "all"}}).options["target"] == "all"


@pytest.mark.parametrize("extra, named", [
    ({"target": "reference"}, "'target' 'reference' needs the person to replace"),
    ({"target": "all", "target_face_at_s": 3}, "go with 'target' 'reference', got 'target' 'all'"),
    ({"target_face_at_s": 3, "target_face_url": "https://x.example/p.png"}, "not both"),
    ({"target": "everyone"}, "'target' must be one of main, reference, all"),
    ({"target_face_at_s": -2}, "'target_face_at_s' must be a number of seconds from 0"),
    ({"target_face_url": "ftp://x/p.png"}, "'target_face_url' must be a http/https/s3 URL"),
])
def test_a_target_that_cannot_work_is_refused_naming_the_fields(extra, named):
    with pytest.raises(InvalidRequestError, match=named.replace("(", r"\(")) as refused:
        parse_job_request({"input": {**MAKE_COM["input"], **extra}})
    assert refused.value.code == "invalid_request"
