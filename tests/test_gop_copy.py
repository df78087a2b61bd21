"""Untouched GOPs copied into the final video: the pictures, the timing, the audio and a real browser's playback.

The swap here is a test engine that paints a magenta block where a face would go: what is under test is how the
swap and stitch steps join copied and encoded pictures, and every expected frame is then known exactly.
"""

import base64
import json
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

from types import SimpleNamespace

import av
import numpy as np
import pytest

from ugc_swap.core.video.copy_plan import Piece, closed_boundaries, plan_pieces
from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.faces.avatar_quality import AvatarQuality
from ugc_swap.core.engines.base import SwappedFrame
from ugc_swap.core.errors import VideoProcessingError
from ugc_swap.core.video.gop_copy import NotCopyable, scan_source
from ugc_swap.core.video.h264_config import BitstreamError, build_avcc, merge_configs, parse_avcc, sps_id
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, write_sample_video
from ugc_swap.core.segment_plan import FrameRange
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import SwappedClip, SwappedSegments, swap_segments
from ugc_swap.core.video.colour_tags import player_matrix
from ugc_swap.core.video.video_probe import probe_video
from ugc_swap.core.video.yuv_patch import yuv420_to_rgb
from ugc_swap.core.video.video_stream import GRAY, FrameReader, ffmpeg_executable

from bench.upload_kinds import rotation_flagged, untagged_copy

from .conftest import psnr
from .file_server import FileServer, Route

PLAN = "0-1.5 swap, 1.5-4.5 keep, 4.5-5.5 swap, 5.5-end keep"  # swap [0,45) and [135,165) of 240 frames
PLAYER = Path(__file__).resolve().parent / "browser" / "play_frames.mjs"


def test_closed_boundaries_follow_the_b_frame_groups():
    # Decode order I0 P4 B2 B1 B3 P8 B6 B5 B7 | I9 P10: after P4 the stream shows 0 but holds 4, so it may stop
    # only after the B-frames that fill the gap.
    assert closed_boundaries([0, 4, 2, 1, 3, 8, 6, 5, 7, 9, 10]) == (1, 5, 9, 10, 11)
    assert closed_boundaries([0, 1, 2]) == (1, 2, 3)  # no B-frames: every picture ends a closed stretch


def test_copies_start_on_an_idr_picture_and_stop_at_the_last_closed_boundary_before_a_cut():
    idr = list(range(0, 240, 30))
    every_gop = sorted({*idr[1:], 240})
    pieces = plan_pieces([FrameRange(45, 135), FrameRange(165, 240)], idr, every_gop, 240)
    assert pieces == (Piece(FrameRange(0, 60), False), Piece(FrameRange(60, 120), True),
                      Piece(FrameRange(120, 180), False), Piece(FrameRange(180, 240), True))
    # With B-frame groups of 4 the first copy goes on into the GOP cut at 135, up to the group ending at 133.
    groups = sorted({*every_gop, *range(1, 240, 4)})
    assert plan_pieces([FrameRange(45, 135), FrameRange(165, 240)], idr, groups, 240)[1:3] == (
        Piece(FrameRange(60, 133), True), Piece(FrameRange(133, 180), False))
    # A keep range with no IDR picture in it is encoded whole.
    assert plan_pieces([FrameRange(45, 58)], idr, groups, 240) == (Piece(FrameRange(0, 240), False),)
    assert plan_pieces([FrameRange(10, 240)], [0], groups, 240) == (Piece(FrameRange(0, 240), False),)
    # A cut exactly on an IDR picture: the copy starts or ends right there.
    assert plan_pieces([FrameRange(30, 90)], idr, every_gop, 240) == (
        Piece(FrameRange(0, 30), False), Piece(FrameRange(30, 90), True), Piece(FrameRange(90, 240), False))
    # An IDR picture right before the cut, with no closed boundary after it: nothing to copy.
    assert plan_pieces([FrameRange(45, 61)], idr, every_gop, 240) == (Piece(FrameRange(0, 240), False),)


def _encode(tmp_path: Path, name: str, x264_params: str) -> Path:
    path = tmp_path / name
    subprocess.run([ffmpeg_executable(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.2", "-c:v",
                    "libx264", "-x264-params", x264_params, str(path)], check=True)
    return path


def _extradata(path: Path) -> bytes:
    with av.open(str(path)) as container:
        return bytes(container.streams.video[0].codec_context.extradata)


def test_decoder_configs_of_two_encodes_merge_under_distinct_ids(tmp_path):
    source = parse_avcc(_extradata(_encode(tmp_path, "a.mp4", "sps-id=0")))
    run = parse_avcc(_extradata(_encode(tmp_path, "b.mp4", "sps-id=7")))
    assert build_avcc(source) == _extradata(tmp_path / "a.mp4")  # parse and build are exact inverses
    assert [sps_id(unit) for unit in run.sps] == [7]
    merged = merge_configs(source, [run])
    assert merged.sps == source.sps + run.sps and merged.pps == source.pps + run.pps
    assert merged.sps_ids == {0, 7}
    with pytest.raises(BitstreamError, match="used twice"):
        merge_configs(source, [source])
    with pytest.raises(BitstreamError, match="not an avcC"):
        parse_avcc(b"\x00\x00\x00\x01\x67")


class PaintEngine:
    """A face engine that paints a magenta block where a face would go: every expected pixel is known."""

    name = "paint"

    def prepare_avatar(self, avatar_rgb, settings):
        return SimpleNamespace(quality=AvatarQuality({}))  # no face to check: the paint needs none

    def swap_segment(self, avatar, frames, segment, fps, settings, stats, visible_masks=None):
        for frame in frames:
            painted, visible = frame.copy(), np.zeros(frame.shape[:2], np.uint8)
            painted[40:120, 100:220], visible[40:120, 100:220] = (255, 0, 255), 255
            stats.frames += 1
            stats.frames_with_face += 1
            yield SwappedFrame(painted, visible)

    def stage_seconds(self):
        return {}


def _swapped(video: Path, folder: Path) -> SwappedSegments:
    planned = plan_video(video, PLAN)
    return swap_segments(planned, np.zeros((8, 8, 3), np.uint8), PaintEngine(), SwapSettings(), folder / "clips", "t")


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """A 1 s-GOP source swapped by the paint engine, and the stitched result."""
    folder = tmp_path_factory.mktemp("gop_copy")
    video = write_sample_video(folder / "source.mp4", SampleVideoSpec(320, 180, Fraction(30), 8.0,
                                                                        keyframe_interval_s=1.0))
    swapped = _swapped(video, folder)
    output = folder / "out" / "result.mp4"
    return swapped.planned, swapped, stitch_video(swapped, output), output


@pytest.fixture(scope="module")
def joined_untagged_hd(tmp_path_factory):
    """A 720p 1 s-GOP source with no colour tags, swapped by the paint engine, and the stitched result."""
    folder = tmp_path_factory.mktemp("gop_copy_untagged")
    tagged = write_sample_video(folder / "tagged.mp4", SampleVideoSpec(1280, 720, Fraction(30), 8.0,
                                                                        keyframe_interval_s=1.0))
    video = untagged_copy(tagged, folder / "source.mp4")
    swapped = _swapped(video, folder)
    output = folder / "out" / "result.mp4"
    return swapped.planned, swapped, stitch_video(swapped, output), output


def _rotated(folder: Path, rotation: int) -> Path:
    """A 1 s-GOP source stored sideways with a phone's rotation flag (the same pictures, flagged)."""
    made = write_sample_video(folder / "made.mp4", SampleVideoSpec(320, 180, Fraction(30), 8.0,
                                                                   keyframe_interval_s=1.0))
    return rotation_flagged(made, rotation, folder / f"rotated_{rotation}.mp4")


@pytest.fixture(scope="module")
def joined_rotated(tmp_path_factory):
    """A phone-style source flagged 90 degrees, swapped by the paint engine, and the stitched result."""
    folder = tmp_path_factory.mktemp("gop_copy_rotated")
    swapped = _swapped(_rotated(folder, 90), folder)
    output = folder / "out" / "result.mp4"
    return swapped.planned, swapped, stitch_video(swapped, output), output


def copied_frames(swapped: SwappedSegments) -> list[int]:
    """Every frame index the layout copies from the source (none without a layout)."""
    pieces = swapped.layout.pieces if swapped.layout is not None else ()
    return [k for piece in pieces if piece.copied for k in range(piece.frames.start, piece.frames.end)]


def _decoded(path: Path) -> tuple[list[np.ndarray], list[float]]:
    """Every picture as YUV planes, and its presentation time, read with PyAV directly."""
    with av.open(str(path)) as container:
        frames = list(container.decode(container.streams.video[0]))
    return [f.to_ndarray(format="yuv420p") for f in frames], [float(f.time) for f in frames]


def test_untouched_gops_come_out_bit_for_bit_and_the_rest_is_encoded(joined):
    planned, swapped, result, output = joined
    source_idr = [i for i in range(240) if i % 30 == 0]
    with av.open(str(planned.source.path)) as container:
        keyframes = [p.pts for p in container.demux(container.streams.video[0]) if p.is_keyframe]
    assert len(keyframes) == len(source_idr)  # the source really has an IDR picture every second
    # The first copy runs from the IDR picture at 60 into the GOP the cut at 135 falls in, up to the last point
    # before the cut where the source's B-frame groups close (x264's 3 B-frames here: 133).
    stop = max(b for b in closed_boundaries(scan_source(planned.source).order.display_indices) if b <= 135)
    assert 120 < stop <= 135
    assert [p.frames for p in swapped.layout.pieces if p.copied] == [FrameRange(60, stop), FrameRange(180, 240)]
    assert (result.copied_frames, result.encoded_frames, result.not_copied_because) == (stop, 240 - stop, None)
    source, _ = _decoded(Path(planned.source.path))
    out, times = _decoded(output)
    assert len(out) == 240
    assert times == pytest.approx([k / 30 for k in range(240)], abs=1e-3)
    copied = [*range(60, stop), *range(180, 240)]
    for k in copied:
        assert np.array_equal(out[k], source[k]), f"copied frame {k} changed"
    for k in sorted(set(range(45, 240)) - set(copied) - set(range(135, 165))):
        assert psnr(out[k], source[k]) >= 38, k  # untouched frames that had to be encoded, near the cuts
    assert list(Path(output).parent.iterdir()) == [output]  # no run or partial file left behind


def test_untagged_colours_are_read_as_players_read_them():
    assert (player_matrix(1280, 720), player_matrix(1080, 1920), player_matrix(720, 576)) == ("bt709",) * 2 + ("bt601",)


def test_an_untagged_hd_source_is_copied_and_its_encoded_frames_keep_their_colours(joined_untagged_hd):
    planned, swapped, result, output = joined_untagged_hd
    assert planned.source.untagged_matrix == "bt709"
    # The engines' RGB (and the whole-video encode's) reads the same samples the same way, tags or none.
    tagged = probe_video(Path(planned.source.path).with_name("tagged.mp4"))
    read = [next(iter(FrameReader(info, 100, 101))).astype(int) for info in (tagged, planned.source)]
    assert np.abs(read[0] - read[1]).max() <= 1
    with av.open(str(planned.source.path)) as container:
        assert container.streams.video[0].codec_context.colorspace == 2  # really untagged
    assert result.not_copied_because is None and result.copied_frames > 100
    source, _ = _decoded(Path(planned.source.path))
    out, _ = _decoded(output)
    copied = copied_frames(swapped)
    assert all(np.array_equal(out[k], source[k]) for k in copied)
    # Kept frames next to the cuts are re-encoded: read as BT.601 (ffmpeg's default for any untagged file) and
    # written as BT.709, their planes move by a colour conversion (measured 37 dB at worst on this clip), against
    # 49 dB for the encode alone.
    encoded_kept = sorted(set(range(45, 240)) - set(copied) - set(range(135, 165)))
    assert encoded_kept and min(psnr(out[k], source[k]) for k in encoded_kept) >= 44


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_rotated_phone_source_is_copied_and_keeps_its_flag(rotation, tmp_path):
    video = _rotated(tmp_path, rotation)
    swapped = _swapped(video, tmp_path)
    result = stitch_video(swapped, tmp_path / "out" / "result.mp4")
    source, out = probe_video(video), probe_video(result.path)
    assert source.rotation == rotation and result.not_copied_because is None and result.copied_frames > 100
    assert (out.width, out.height, out.rotation) == (source.width, source.height, rotation)
    stored_source, stored_out = _decoded(video)[0], _decoded(result.path)[0]  # PyAV: as stored, not turned
    copied = copied_frames(swapped)
    assert all(np.array_equal(stored_out[k], stored_source[k]) for k in copied)
    # Upright, as a player shows both: every kept frame matches, and the paint sits where the engine put it.
    upright_source, upright_out = list(FrameReader(source)), list(FrameReader(out))
    kept = [k for k in range(45, 240) if not 135 <= k < 165]
    assert min(psnr(upright_out[k], upright_source[k]) for k in kept) >= 38
    for k in range(240):
        painted = np.abs(upright_out[k][50:110, 110:170].astype(int) - (255, 0, 255)).mean() < 12
        assert painted == (k < 45 or 135 <= k < 165), k


def test_jittery_timestamps_are_copied_onto_the_grid_and_dropped_frames_are_not(tmp_path):
    made = write_sample_video(tmp_path / "made.mp4", SampleVideoSpec(320, 180, Fraction(30), 8.0,
                                                                     keyframe_interval_s=1.0))
    with av.open(str(made)) as container:
        tick = 1 / (container.streams.video[0].time_base * 30)  # time-base units per frame
    jittery = tmp_path / "jittery.mp4"  # every picture a fifth of a frame early or late, as phones stamp them
    subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(made), "-c", "copy", "-bsf:v",
                    f"setts=pts=PTS+if(eq(mod(N\\,2)\\,0)\\,{round(tick / 5)}\\,-{round(tick / 5)})",
                    str(jittery)], check=True)
    source = probe_video(jittery)
    assert source.variable_frame_rate and source.frame_count == 240  # steps of 0.6 and 1.4 frames
    swapped = _swapped(jittery, tmp_path)
    result = stitch_video(swapped, tmp_path / "out" / "result.mp4")
    assert result.not_copied_because is None and result.copied_frames > 100
    before, _ = _decoded(jittery)
    after, times = _decoded(result.path)
    assert times == pytest.approx([k / 30 for k in range(240)], abs=1e-3)  # on the grid
    copied = copied_frames(swapped)
    assert all(np.array_equal(after[k], before[k]) for k in copied)

    dropped = tmp_path / "dropped.mp4"  # a frame missing: its slot is filled by the decoder, not by a picture
    subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(made), "-vf", "select='not(eq(n\\,100))'",
                    "-fps_mode", "passthrough", "-c:v", "libx264", "-g", "30", "-c:a", "copy", str(dropped)],
                   check=True)
    with pytest.raises(NotCopyable, match="off the constant-rate grid|pictures for"):
        scan_source(probe_video(dropped))


def test_swapped_frames_and_audio_survive_the_join(joined):
    planned, _, _, output = joined
    with av.open(str(output)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    for k in range(240):
        block = frames[k][50:110, 110:210].astype(int)
        painted = np.abs(block - (255, 0, 255)).mean() < 12
        assert painted == (k < 45 or 135 <= k < 165), k

    def audio(path):
        with av.open(str(path)) as container:
            return np.concatenate([f.to_ndarray().ravel() for f in container.decode(container.streams.audio[0])])

    assert np.array_equal(audio(output), audio(planned.source.path))  # copied, not re-encoded


def test_the_mask_video_covers_every_frame_from_the_encoded_runs(joined):
    _, swapped, _, _ = joined
    assert [clip.frames for clip in swapped.clips] == [FrameRange(0, 60), FrameRange(swapped.layout.runs[1].start, 180)]
    masks = list(FrameReader(probe_video(swapped.visible_mask), pixel_format=GRAY))
    assert len(masks) == 240
    for k, mask in enumerate(masks):
        assert bool(mask[60:100, 140:180].min() > 200) == (k < 45 or 135 <= k < 165), k
        assert mask[:30].max() < 8, k  # black outside the painted block


def test_the_track_holds_both_parameter_sets_in_one_avc1_description(joined):
    _, _, _, output = joined
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        record = bytes(stream.codec_context.extradata)
        assert stream.codec_context.codec_tag == "avc1"
    assert record[0] == 1 and record[5] & 0x1F == 3  # the source's SPS and one per encoded run


@pytest.mark.parametrize("source", ["joined", "joined_untagged_hd", "joined_rotated"])
def test_a_real_browser_plays_every_piece(source, request, tmp_path):
    chromium = shutil.which("chromium")
    modules = Path(os.environ.get("UGC_SWAP_NODE_MODULES", "")) / "playwright-core"
    assert chromium and modules.is_dir(), "chromium and playwright-core come from bin/test-tools (bin/test runs it)"
    planned, swapped, _, output = request.getfixturevalue(source)
    width, height = planned.source.width, planned.source.height
    # As a player shows them: BT.709, whether the pictures say so (encoded runs, the tagged source) or are an
    # untagged HD source's own.
    # Upright: a rotated file is shown turned by its flag (counter-clockwise, as PyAV reads it).
    turns = planned.source.rotation // 90
    stored = (height, width) if turns % 2 else (width, height)
    expected = [np.rot90(yuv420_to_rgb(planes, *stored), k=turns) for planes in _decoded(output)[0]]
    # One frame inside each piece and both sides of every boundary between pieces.
    frames = sorted({10, 90, 150, 239, *(k for p in swapped.layout.pieces[1:] for k in (p.frames.start - 1, p.frames.start))})
    assert len(frames) == 10
    with FileServer() as server:
        server.routes["/result.mp4"] = Route(file=output, headers={"Content-Type": "video/mp4"})
        server.routes["/"] = Route(body=b'<video id="v" src="/result.mp4" preload="auto" muted></video>',
                                   headers={"Content-Type": "text/html"})
        run = subprocess.run(["node", str(PLAYER), server.url("/"), "30", *map(str, frames)], capture_output=True,
                             text=True, timeout=300, env={**os.environ, "CHROMIUM": chromium})
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["error"] is None, report
    assert report["duration"] == pytest.approx(8.0, abs=0.05)
    for shown in report["frames"]:
        k = shown["frame"]
        pixels = np.frombuffer(base64.b64decode(shown["rgba"]), np.uint8).reshape(height, width, 4)[..., :3]
        pixels = pixels.astype(int)
        # The browser's own YUV to RGB conversion differs from PyAV's by a level or two; a picture decoded with
        # the wrong parameter set differs by far more, and the frame shown must be the one asked for.
        difference = {j: np.abs(pixels - expected[j]).mean() for j in (k - 1, k, k + 1) if 0 <= j < 240}
        assert difference[k] < 4.0 and min(difference, key=difference.get) == k, (k, difference)


def test_sources_that_cannot_be_copied_are_encoded_whole(tmp_path):
    video = write_sample_video(tmp_path / "long_gop.mp4", SampleVideoSpec(320, 180, Fraction(30), 8.0,
                                                                           keyframe_interval_s=None))
    swapped = _swapped(video, tmp_path)
    assert swapped.layout is None and len(swapped.clips) == 2  # one lossless clip per swap range
    result = stitch_video(swapped, tmp_path / "result.mp4")
    assert (result.copied_frames, result.encoded_frames) == (0, 240)
    assert result.not_copied_because == "no IDR picture inside an untouched segment"
    source, _ = _decoded(Path(video))
    out, _ = _decoded(result.path)
    assert len(out) == 240 and min(psnr(out[k], source[k]) for k in range(45, 135)) >= 38

    bt601 = tmp_path / "bt601.mp4"
    # BT.601 in the stream and in the container's colour box (which a copy otherwise keeps from the source).
    subprocess.run([ffmpeg_executable(), "-v", "error", "-i", str(video), "-c", "copy", "-bsf:v",
                    "h264_metadata=matrix_coefficients=6", "-colorspace", "bt470bg", str(bt601)], check=True)
    with pytest.raises(NotCopyable, match="BT.709"):
        scan_source(plan_video(bt601, PLAN).source)


def test_a_missing_clip_fails_before_anything_is_written(joined, tmp_path):
    planned, swapped, _, _ = joined
    broken = SwappedSegments(planned, (SwappedClip(swapped.clips[0].frames, tmp_path / "gone.mp4"),
                                       swapped.clips[1]), swapped.report, swapped.visible_mask, swapped.layout)
    with pytest.raises(VideoProcessingError, match="gone.mp4 is missing"):
        stitch_video(broken, tmp_path / "out" / "result.mp4")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
