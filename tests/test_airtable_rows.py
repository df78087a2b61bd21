"""AirtableRows through the real pyairtable client against a loopback stand-in for Airtable's REST API."""

import dataclasses
import time

import pytest
from pyairtable import Api

from driver.airtable_rows import (
    AirtableError,
    AirtableFields,
    AirtableJob,
    AirtableRows,
    AirtableSettings,
    airtable_settings_from_env,
)
from driver.comfy_server import free_port
from driver.job_request import parse_job_request

from .airtable_standin import AirtableStandIn

TABLE = "UGC Jobs"  # a space, so the table name has to be quoted in the URL
VIDEO = "https://cdn.example.com/in/video.mp4"
AVATAR = "https://cdn.example.com/in/avatar.png"


@pytest.fixture
def standin():
    with AirtableStandIn(table=TABLE) as server:
        yield server


def settings_for(standin: AirtableStandIn, **changes) -> AirtableSettings:
    fast = AirtableSettings(api_key=standin.api_key, base_id=standin.base_id, table=TABLE, endpoint_url=standin.url,
                            timeout_s=2.0, connect_timeout_s=0.5, attempts=3, backoff_s=0.01)
    return dataclasses.replace(fast, **changes)


def patches(standin: AirtableStandIn) -> list:
    return [r for r in standin.requests if r.method == "PATCH"]


def test_mark_calls_land_their_fields_and_success_clears_the_error(standin):
    record = standin.seed({"Status": "Retry", "Source_Video_URL": VIDEO, "Error_Message": "earlier try: timeout"})
    rows = AirtableRows(settings_for(standin))

    rows.mark_processing(record)
    assert standin.fields_of(record) == {"Status": "Processing", "Source_Video_URL": VIDEO,
                                         "Error_Message": "earlier try: timeout"}
    rows.mark_failed(record, "avatar_no_face: no face in the avatar image")
    assert standin.fields_of(record)["Status"] == "Failed"
    assert standin.fields_of(record)["Error_Message"] == "avatar_no_face: no face in the avatar image"
    rows.mark_complete(record, "https://bucket.example.com/out/rec.mp4")
    assert standin.fields_of(record) == {"Status": "Complete", "Source_Video_URL": VIDEO,
                                         "Output_Video_URL": "https://bucket.example.com/out/rec.mp4"}

    sent = patches(standin)
    assert [r.path for r in sent] == [f"/v0/{standin.base_id}/{TABLE}/{record}"] * 3
    assert all(r.body["typecast"] is True for r in sent)
    assert sent[2].body["fields"] == {"Status": "Complete", "Error_Message": None,
                                      "Output_Video_URL": "https://bucket.example.com/out/rec.mp4"}


def test_typecast_lets_a_new_status_option_through(standin):
    # The stand-in's Status select knows only Pending/Retry, like a table set up for Make.com alone.
    record = standin.seed({"Status": "Pending"})
    plain = Api(standin.api_key, endpoint_url=standin.url).table(standin.base_id, TABLE)
    with pytest.raises(Exception, match="INVALID_MULTIPLE_CHOICE_OPTIONS"):
        plain.update(record, {"Status": "Complete"})
    AirtableRows(settings_for(standin)).mark_complete(record, "https://x.example.com/o.mp4")
    assert standin.fields_of(record)["Status"] == "Complete"
    assert "Complete" in standin.select_options["Status"]


def test_long_failure_messages_are_cut_to_fit_a_cell(standin):
    record = standin.seed({"Status": "Processing"})
    AirtableRows(settings_for(standin)).mark_failed(record, "x" * 50_000)
    assert len(standin.fields_of(record)["Error_Message"]) == 10_000


def test_rows_to_run_reads_every_page_and_only_pending_or_retry(standin):
    standin.max_page_size = 2
    statuses = ["Pending", "Processing", "Retry", "Complete", "Pending", "Failed", "Retry", "Pending", None]
    ids = [standin.seed({"Status": s, "Source_Video_URL": f"{VIDEO}?n={n}", "Avatar_Image_URL": AVATAR})
           for n, s in enumerate(statuses)]
    rows = AirtableRows(settings_for(standin))

    jobs = rows.rows_to_run(limit=50)

    assert [job.record_id for job in jobs] == [ids[0], ids[2], ids[4], ids[6], ids[7]]
    assert jobs[1] == AirtableJob(ids[2], {"source_video_url": f"{VIDEO}?n=2", "avatar_image_url": AVATAR})
    lists = [r for r in standin.requests if r.method == "GET"]
    assert len(lists) == 3  # 2 + 2 + 1: the last row is only on page 3
    assert lists[0].query["filterByFormula"] == ["OR({Status}='Pending', {Status}='Retry')"]
    assert "offset" not in lists[0].query and lists[1].query["offset"] and lists[2].query["offset"]
    assert rows.rows_to_run(limit=3) == jobs[:3]


def test_formula_quotes_a_renamed_status_column(standin):
    standin.known_fields = (*standin.known_fields, "Job Status {v2}")
    wanted = standin.seed({"Job Status {v2}": "Retry"})
    standin.seed({"Job Status {v2}": "Complete", "Status": "Pending"})
    rows = AirtableRows(settings_for(standin, fields=AirtableFields(status="Job Status {v2}")))
    assert rows.runnable_formula() == r"OR({Job Status {v2\}}='Pending', {Job Status {v2\}}='Retry')"
    assert [job.record_id for job in rows.rows_to_run(10)] == [wanted]


def test_jobs_become_make_com_requests(standin):
    record = standin.seed({"Status": "Pending", "Source_Video_URL": f" {VIDEO} ", "Avatar_Image_URL": AVATAR,
                           "Webhook_URL": "https://hook.make.com/abc", "Engine": "fast", "Segments": ""})
    [job] = AirtableRows(settings_for(standin)).rows_to_run(5)
    assert job.to_request() == {"record_id": record, "source_video_url": VIDEO, "avatar_image_url": AVATAR,
                                "webhook_url": "https://hook.make.com/abc", "engine": "fast"}
    request = parse_job_request({"input": job.to_request()})
    assert (request.record_id, request.source_video_url, request.engine) == (record, VIDEO, "fast")


def test_optional_columns_are_read_where_the_table_has_them_and_not_needed_where_it_does_not(standin):
    # The stand-in's table has none of the target columns; it still runs (the watch never names a column).
    plain = standin.seed({"Status": "Pending", "Source_Video_URL": VIDEO, "Avatar_Image_URL": AVATAR})
    [job] = AirtableRows(settings_for(standin)).rows_to_run(5)
    assert job.record_id == plain and "target" not in job.cells
    standin.known_fields = (*standin.known_fields, "Target", "Target_Face_At_S")
    standin.seed_fields(plain, {"Status": "Complete"})
    record = standin.seed({"Status": "Pending", "Source_Video_URL": VIDEO, "Avatar_Image_URL": AVATAR,
                           "Target_Face_At_S": 12.5})
    [job] = AirtableRows(settings_for(standin)).rows_to_run(5)
    request = parse_job_request({"input": job.to_request()})
    assert request.record_id == record and request.options == {"target": "reference", "target_face_at_s": 12.5}


def test_an_attachment_cell_gives_its_first_url(standin):
    standin.seed({"Status": "Pending", "Avatar_Image_URL": [{"id": "att1", "url": AVATAR, "filename": "a.png"}]})
    [job] = AirtableRows(settings_for(standin)).rows_to_run(5)
    assert job.cells == {"avatar_image_url": AVATAR}


def test_a_row_is_claimed_once(standin):
    record = standin.seed({"Status": "Pending"})
    done = standin.seed({"Status": "Complete"})
    rows = AirtableRows(settings_for(standin))
    assert rows.claim(record) is True
    assert standin.fields_of(record)["Status"] == "Processing"
    assert rows.claim(record) is False
    assert rows.claim(done) is False
    assert len(patches(standin)) == 1  # the refused claims wrote nothing


def test_429_then_503_are_retried_until_the_write_lands(standin):
    record = standin.seed({"Status": "Pending"})
    standin.fail_next(429)
    standin.fail_next(503)
    AirtableRows(settings_for(standin)).mark_processing(record)
    assert [(r.method, r.status) for r in standin.requests] == [("PATCH", 429), ("PATCH", 503), ("PATCH", 200)]
    assert standin.fields_of(record)["Status"] == "Processing"


def test_listing_is_retried_too(standin):
    standin.seed({"Status": "Retry"})
    standin.fail_next(500)
    assert len(AirtableRows(settings_for(standin)).rows_to_run(5)) == 1
    assert [r.status for r in standin.requests] == [500, 200]


def test_retries_stop_after_the_configured_attempts(standin):
    record = standin.seed({"Status": "Pending"})
    standin.fail_next(503, count=10)
    with pytest.raises(AirtableError, match="HTTP 503 SERVER_ERROR"):
        AirtableRows(settings_for(standin, attempts=3)).mark_processing(record)
    assert len(standin.requests) == 3


def test_unknown_column_names_the_field_and_table_without_the_key(standin):
    record = standin.seed({"Status": "Processing"})
    rows = AirtableRows(settings_for(standin, fields=AirtableFields(output_video_url="Output_Video_Url")))
    with pytest.raises(AirtableError) as caught:
        rows.mark_complete(record, "https://x.example.com/o.mp4")
    text = str(caught.value)
    assert caught.value.code == "airtable_failed"
    assert 'Unknown field name: "Output_Video_Url"' in text and "UNKNOWN_FIELD_NAME" in text
    assert "HTTP 422" in text and repr(TABLE) in text and "UGC_SWAP_AIRTABLE_FIELD_" in text
    assert standin.api_key not in text and standin.api_key not in repr(caught.value)
    assert len(standin.requests) == 1  # a 422 is not retried
    assert standin.fields_of(record) == {"Status": "Processing"}


def test_wrong_api_key_is_a_clear_error_without_the_key(standin):
    wrong = "patWrongKey.fedcba9876543210"
    rows = AirtableRows(settings_for(standin, api_key=wrong))
    with pytest.raises(AirtableError, match="HTTP 401 AUTHENTICATION_REQUIRED") as caught:
        rows.rows_to_run(5)
    assert "UGC_SWAP_AIRTABLE_API_KEY" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(rows.settings)


def test_missing_record_and_wrong_base_are_clear(standin):
    rows = AirtableRows(settings_for(standin))
    with pytest.raises(AirtableError, match="HTTP 404 MODEL_ID_NOT_FOUND.*recNotThere"):
        rows.mark_processing("recNotThere")
    with pytest.raises(AirtableError, match="in base appSomethingElse: HTTP 403 INVALID_PERMISSIONS"):
        AirtableRows(settings_for(standin, base_id="appSomethingElse")).claim("recNotThere")


def test_unreachable_endpoint_fails_fast_naming_the_host():
    port = free_port()  # bound then released: nothing listens there
    settings = AirtableSettings(api_key="patSecret.123", base_id="appX", table="Jobs",
                                endpoint_url=f"http://127.0.0.1:{port}", connect_timeout_s=0.5, timeout_s=1.0,
                                attempts=2, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(AirtableError, match=f"could not reach Airtable at 127.0.0.1:{port}.*2 attempts") as caught:
        AirtableRows(settings).mark_processing("rec1")
    assert time.monotonic() - started < 3.0
    assert "patSecret.123" not in str(caught.value)


def test_the_stand_in_filters_with_and_and_refuses_formulas_it_does_not_model(standin):
    standin.seed({"Status": "Pending", "Engine": "quality"})
    fast = standin.seed({"Status": "Pending", "Engine": "fast"})
    table = Api(standin.api_key, endpoint_url=standin.url).table(standin.base_id, TABLE)
    assert [r["id"] for r in table.all(formula="AND({Status}='Pending', {Engine}=\"fast\")")] == [fast]
    with pytest.raises(Exception, match="INVALID_FILTER_BY_FORMULA"):
        table.all(formula="FIND('Pend', {Status})")
    with pytest.raises(Exception, match="Unknown field names: Stat"):
        table.all(formula="{Stat}='Pending'")


def test_the_stand_in_applies_a_batch_update(standin):
    first, second = standin.seed({"Status": "Pending"}), standin.seed({"Status": "Retry"})
    table = Api(standin.api_key, endpoint_url=standin.url).table(standin.base_id, TABLE)
    table.batch_update([{"id": first, "fields": {"Engine": "fast"}}, {"id": second, "fields": {"Status": None}}])
    assert standin.fields_of(first) == {"Status": "Pending", "Engine": "fast"}
    assert standin.fields_of(second) == {}
    assert standin.requests[-1].path == f"/v0/{standin.base_id}/{TABLE}"


# --- settings from the environment -----------------------------------------------------------------------------

KEY = "patEnvSecret.abcdef0123456789"
FULL_ENV = {"UGC_SWAP_AIRTABLE_API_KEY": KEY, "UGC_SWAP_AIRTABLE_BASE_ID": "appAbc123Def456Gh",
            "UGC_SWAP_AIRTABLE_TABLE": "Jobs"}


def test_no_airtable_variables_means_no_airtable():
    problems: list[str] = []
    assert airtable_settings_from_env({"UGC_SWAP_S3_BUCKET": "b"}, problems) is None
    assert airtable_settings_from_env({"AIRTABLE_API_KEY": KEY}, problems) is None  # another tool's variable
    assert problems == []


def test_partial_configuration_names_each_missing_variable_never_the_key():
    problems: list[str] = []
    assert airtable_settings_from_env({"UGC_SWAP_AIRTABLE_API_KEY": KEY}, problems) is None
    assert len(problems) == 2
    assert problems[0].startswith("UGC_SWAP_AIRTABLE_BASE_ID is missing")
    assert problems[1].startswith("UGC_SWAP_AIRTABLE_TABLE is missing")
    only_table: list[str] = []
    assert airtable_settings_from_env({"UGC_SWAP_AIRTABLE_TABLE": "Jobs"}, only_table) is None
    assert [p.split(" ")[0] for p in only_table] == ["UGC_SWAP_AIRTABLE_API_KEY", "UGC_SWAP_AIRTABLE_BASE_ID"]
    assert all(KEY not in p for p in problems + only_table)


def test_bad_base_id_and_endpoint_are_reported():
    problems: list[str] = []
    env = {**FULL_ENV, "UGC_SWAP_AIRTABLE_BASE_ID": "https://airtable.com/appAbc/tblX",
           "UGC_SWAP_AIRTABLE_ENDPOINT_URL": "api.airtable.com"}
    assert airtable_settings_from_env(env, problems) is None
    assert len(problems) == 2 and "must be a base id starting with 'app'" in problems[0]
    assert "UGC_SWAP_AIRTABLE_ENDPOINT_URL must be an http(s) URL" in problems[1]
    assert all(KEY not in p for p in problems)


def test_full_configuration_with_fallback_key_and_field_overrides():
    problems: list[str] = []
    env = {**FULL_ENV, "UGC_SWAP_AIRTABLE_API_KEY": "", "AIRTABLE_API_KEY": KEY,
           "UGC_SWAP_AIRTABLE_ENDPOINT_URL": "http://127.0.0.1:9",
           "UGC_SWAP_AIRTABLE_FIELD_OUTPUT_VIDEO_URL": "Result URL", "UGC_SWAP_AIRTABLE_FIELD_STATUS": " State "}
    settings = airtable_settings_from_env(env, problems)
    assert problems == []
    assert settings == AirtableSettings(api_key=KEY, base_id="appAbc123Def456Gh", table="Jobs",
                                        endpoint_url="http://127.0.0.1:9",
                                        fields=AirtableFields(status="State", output_video_url="Result URL"))
    assert settings.fields.error_message == "Error_Message"
    assert KEY not in repr(settings)


def test_the_columns_watch_reads_come_from_the_contract_and_can_be_renamed(standin):
    from driver.contract import FIELDS

    env = {**FULL_ENV, "UGC_SWAP_AIRTABLE_FIELD_SOURCE_VIDEO_URL": "Demo video"}
    settings = airtable_settings_from_env(env, [])
    assert settings.fields.request == {**{f.name: f.airtable_column for f in FIELDS if f.airtable_column},
                                       "source_video_url": "Demo video"}
    standin.known_fields = (*standin.known_fields, "Demo video")
    record = standin.seed({"Status": "Pending", "Demo video": VIDEO, "Avatar_Image_URL": AVATAR})
    [job] = AirtableRows(settings_for(standin, fields=settings.fields)).rows_to_run(5)
    assert job.to_request() == {"record_id": record, "source_video_url": VIDEO, "avatar_image_url": AVATAR}
