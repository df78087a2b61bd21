"""The contract table is the one home of each request field: the README, the request parser, the CLI and the
Airtable watch all follow it."""

import argparse

import pytest

from driver import cli
from driver.contract import FIELDS, graph_fields, readme_table
from driver.job_request import parse_job_request
from tools.contract_doc import README, readme_section


def test_the_readme_lists_exactly_the_contract_fields():
    assert readme_section(README.read_text()).strip() == readme_table().strip(), \
        "README's contract table is stale: run `python tools/contract_doc.py`"


def test_every_field_is_read_from_a_request_under_each_of_its_names():
    body = {"record_id": "r1", "video_url": "https://x.example/v.mp4", "avatar_url": "https://x.example/a.png"}
    request = parse_job_request({"input": body})
    for field in FIELDS:
        if not field.required:
            assert getattr(request, field.name, request.options.get(field.name)) == field.default, field.name


def test_the_cli_offers_a_flag_for_every_graph_field_that_declares_one():
    args = cli.parse_args(["run"])
    assert isinstance(args, argparse.Namespace)
    for field in graph_fields():
        if field.cli_flag:
            assert getattr(args, field.name) == field.default
            assert getattr(cli.parse_args(["run", field.cli_flag, "x"]), field.name) == "x"


def test_a_cli_value_is_checked_by_the_contract_parser():
    args = cli.parse_args(["run", "--engine", "magic"])
    try:
        cli._contract_values(args)
    except SystemExit as stop:
        assert "--engine must be one of fast" in str(stop)
    else:
        raise AssertionError("an unknown engine on the command line was accepted")


def test_the_cli_applies_the_target_rule_in_terms_of_its_flags():
    from driver.cli import _contract_values, parse_args

    assert _contract_values(parse_args(["--target-face-at", "2"]))["target"] == "reference"
    with pytest.raises(SystemExit, match="--target 'reference' needs the person to replace: --target-face"):
        _contract_values(parse_args(["--target", "reference"]))
