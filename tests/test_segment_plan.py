from fractions import Fraction

import pytest

from ugc_swap.core.errors import SegmentPlanError
from ugc_swap.core.segment_plan import (
    DEFAULT_SEGMENT_PLAN,
    FrameRange,
    Segment,
    parse_segment_plan,
    resolve_plan,
)


def test_default_plan_parses_to_four_segments():
    assert parse_segment_plan(DEFAULT_SEGMENT_PLAN) == (
        Segment(0, 5, "swap"), Segment(5, 15, "keep"), Segment(15, 20, "swap"), Segment(20, 30, "keep"),
    )


def test_text_and_json_forms_agree():
    text = parse_segment_plan("0-5 swap; 5-15 keep\n15-20s: SWAP")
    as_list = parse_segment_plan('[{"start": 0, "end": 5, "action": "swap"}, {"start": 5, "end": 15, "action": "keep"},'
                                 ' {"start": 15, "end": 20, "action": "swap"}]')
    as_object = parse_segment_plan('{"segments": [{"start": 0, "end": 5, "action": "swap"},'
                                   ' {"start": 5, "end": 15, "action": "keep"}, {"start": 15, "end": 20, "action": "swap"}]}')
    assert text == as_list == as_object


def test_default_plan_at_30_fps_gives_exact_frame_ranges():
    plan = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), Fraction(30), 900)
    assert plan.swap_ranges == (FrameRange(0, 150), FrameRange(450, 600))
    assert plan.keep_ranges == (FrameRange(150, 450), FrameRange(600, 900))
    assert plan.swapped_frame_count == 300


def test_ntsc_rate_rounds_to_nearest_frame():
    plan = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), Fraction(30000, 1001), 899)
    assert plan.swap_ranges == (FrameRange(0, 150), FrameRange(450, 599))


def test_short_video_clamps_and_drops_empty_segments():
    plan = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), Fraction(30), 12 * 30)
    assert plan.swap_ranges == (FrameRange(0, 150),)
    assert plan.keep_ranges == (FrameRange(150, 360),)
    partial = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), Fraction(30), 17 * 30)
    assert partial.swap_ranges == (FrameRange(0, 150), FrameRange(450, 510))
    # Cut to the video, never in silence: each warning names the segment and what was done with it.
    assert plan.clamped == ("segments: swap 15-20 s lies past the end of the 12.00 s video; left out",)
    assert partial.clamped == ("segments: swap 15-20 s runs past the end of the 17.00 s video; swapped 15-17.00 s",)
    whole = resolve_plan(parse_segment_plan("0-500 swap"), Fraction(30), 12 * 30)
    assert whole.swap_ranges == (FrameRange(0, 360),) and "swap 0-500 s runs past the end" in whole.clamped[0]
    assert resolve_plan(parse_segment_plan("0-5 swap, 5-end keep"), Fraction(30), 12 * 30).clamped == ()


def test_longer_video_keeps_everything_the_plan_does_not_cover():
    plan = resolve_plan(parse_segment_plan(DEFAULT_SEGMENT_PLAN), Fraction(25), 40 * 25)
    assert plan.swap_ranges == (FrameRange(0, 125), FrameRange(375, 500))
    assert plan.keep_ranges[-1] == FrameRange(500, 1000)


def test_open_ended_segment_runs_to_the_end():
    plan = resolve_plan(parse_segment_plan("0-5 keep, 5-end swap"), Fraction(24), 240)
    assert plan.swap_ranges == (FrameRange(120, 240),)


def test_plan_entirely_past_the_end_is_a_clear_error():
    with pytest.raises(SegmentPlanError, match="past the end of the video"):
        resolve_plan(parse_segment_plan("40-45 swap"), Fraction(30), 900)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("", "empty"),
        ("0-5 swop", "unknown action 'swop'"),
        ("five to ten swap", "cannot read segment"),
        ("5-3 swap", "ends before it starts"),
        ("0-5 swap, 4-8 keep", "overlaps"),
        ("0-5 keep, 5-10 keep", "no 'swap' segment"),
        ("0-end swap, 5-6 keep", "must be the last"),
        ("[{\"start\": 0, \"end\": \"x\", \"action\": \"swap\"}]", "numeric 'start' and 'end'"),
        ("{\"segments\": 3}", "must be a list"),
        ("[{\"start\": 0, \"end\": 1", "not valid JSON"),
    ],
)
def test_bad_plans_name_what_is_wrong(plan, message):
    with pytest.raises(SegmentPlanError, match=message) as caught:
        parse_segment_plan(plan)
    assert caught.value.code == "invalid_segment_plan"
