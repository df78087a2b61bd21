"""Untouched stretches of the source go into the final video as the source's own compressed pictures.

Re-encoding every kept frame costs as much as the whole reference re-encode and adds a generation of loss to
frames nobody changed. Instead the source's pictures inside a keep range are copied packet for packet from its
first IDR picture to the last point before the cut where the stream can stop, and only the swapped frames and
the few kept frames between a cut and those points are encoded (see copy_plan.py). The pieces are joined into
one mp4 track whose decoder configuration holds the parameter sets of both (see h264_config.py); audio is added
by the same remux that adds it to a fully encoded video.

Only sources whose pictures mean exactly what re-encoded ones would qualify: H.264 8-bit 4:2:0 in mp4/mov,
BT.709 limited range (tagged, or untagged HD, which players read as BT.709), every picture in its own slot of
the constant-rate grid (a phone's jittery timestamps are retimed onto it; a rate that really changes, or dropped
frames, are not copied). A phone's
rotation flag is kept: the encoded runs are turned back to the stored orientation, and the track takes the
source's flag. Anything else is encoded whole, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .colour_tags import BT709
from .copy_plan import Piece, closed_boundaries, plan_pieces
from ..errors import VideoProcessingError
from .h264_config import (BitstreamError, DecoderConfig, build_avcc, free_sps_ids, is_idr_sample, merge_configs,
                          parse_avcc)
from ..segment_plan import FrameRange
from .video_probe import VideoInfo

_BT709, _LIMITED_RANGE, _UNSPECIFIED = 1, 1, 2
_UNSPECIFIED_RANGE = 0  # read as limited range, as players do
# Of a frame: how far a packet's time may sit from its frame's slot, counted from the first picture. The decoding
# path (FrameReader's fps filter) puts each picture in the nearest slot from the first picture's time, so within
# half a frame both paths agree on which frame a picture is; the rest is margin for time-base rounding.
_GRID_TOLERANCE = 0.45


class NotCopyable(Exception):
    """Why a source's packets cannot stand in the final video as they are."""


@dataclass(frozen=True)
class PacketOrder:
    """The display index of every picture of a stream, in decode order: what it takes to retime packets."""

    config: DecoderConfig
    display_indices: tuple[int, ...]

    @property
    def reorder_depth(self) -> int:
        """How many pictures a packet may be decoded ahead of its display slot (B-frames)."""
        return max((i - shown for i, shown in enumerate(self.display_indices)), default=0)


@dataclass(frozen=True)
class SourceGops:
    order: PacketOrder
    idr_frames: tuple[int, ...]


@dataclass(frozen=True)
class CopyLayout:
    """How the final video is made: `pieces` in order, each encoded run with the parameter-set id it must use."""

    gops: SourceGops
    pieces: tuple[Piece, ...]
    run_sps_ids: tuple[int, ...]

    @property
    def runs(self) -> list[FrameRange]:
        return [piece.frames for piece in self.pieces if not piece.copied]

    @property
    def copied_frames(self) -> int:
        return sum(piece.frames.length for piece in self.pieces if piece.copied)


def copy_layout(info: VideoInfo, keep_ranges: Sequence[FrameRange]) -> CopyLayout:
    """The layout copying what can be copied of the keep ranges, or NotCopyable saying why nothing can be."""
    gops = scan_source(info)
    pieces = plan_pieces(keep_ranges, gops.idr_frames, closed_boundaries(gops.order.display_indices), info.frame_count)
    if not any(piece.copied for piece in pieces):
        raise NotCopyable("no IDR picture inside an untouched segment")
    try:
        ids = free_sps_ids(gops.order.config.sps_ids, sum(not piece.copied for piece in pieces))
    except BitstreamError as exc:
        raise NotCopyable(str(exc)) from None
    return CopyLayout(gops, pieces, tuple(ids))


def scan_source(info: VideoInfo) -> SourceGops:
    """The source's IDR pictures and packet order, or NotCopyable saying why its packets can't be reused."""
    if info.rotation not in (0, 90, 180, 270):
        raise NotCopyable(f"rotated {info.rotation} degrees")
    import av

    with av.open(info.path) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        if context.name != "h264" or context.pix_fmt != "yuv420p":
            raise NotCopyable(f"{context.name} {context.pix_fmt} (only H.264 8-bit 4:2:0 is copied)")
        # An untagged HD file is BT.709 to every player, as it is to this project's decoding (colour_tags.py).
        bt709 = context.colorspace == _BT709 or info.untagged_matrix == BT709
        if not bt709 or context.color_range not in (_LIMITED_RANGE, _UNSPECIFIED_RANGE):
            raise NotCopyable("colours neither BT.709 limited range nor untagged HD")
        if context.color_primaries not in (_BT709, _UNSPECIFIED) or context.color_trc not in (_BT709, _UNSPECIFIED):
            raise NotCopyable("colour primaries or transfer other than BT.709")
        try:
            config = parse_avcc(bytes(context.extradata or b""))
        except BitstreamError as exc:
            raise NotCopyable(str(exc)) from None
        times, idr_times = [], []
        for packet in _pictures(container.demux(stream)):
            times.append(packet.pts)
            if packet.is_keyframe and is_idr_sample(bytes(packet), config.length_size):
                idr_times.append(packet.pts)
        display = _display_indices(times, stream.time_base, info.fps, info.frame_count)
    index_of = dict(zip(times, display))
    return SourceGops(PacketOrder(config, display), tuple(sorted(index_of[t] for t in idr_times)))


def _display_indices(times: list[int], time_base: Fraction, fps: Fraction, frame_count: int) -> tuple[int, ...]:
    if len(times) != frame_count or len(set(times)) != len(times):
        raise NotCopyable(f"{len(times)} pictures for {frame_count} frame slots")
    first = min(times)
    display = _display_order(times)
    for t, i in zip(times, display):
        if abs(float((t - first) * time_base * fps) - i) > _GRID_TOLERANCE:
            raise NotCopyable(f"picture {i} is off the constant-rate grid")
    return display


def _display_order(times: list[int]) -> tuple[int, ...]:
    """Each packet's place in display order, from its presentation time (packets in decode order)."""
    rank = {t: i for i, t in enumerate(sorted(times))}
    return tuple(rank[t] for t in times)


def _pictures(packets) -> Iterator:
    """The demuxed packets that hold a picture (not the empty ones that flush a decoder)."""
    return (packet for packet in packets if packet.size and packet.pts is not None)


def packet_order(path: Path) -> PacketOrder:
    """Packet order of an encoded run (a whole file, every packet shown)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [packet.pts for packet in _pictures(container.demux(stream))]
        config = parse_avcc(bytes(stream.codec_context.extradata))
    return PacketOrder(config, _display_order(times))


def join_pieces(source: VideoInfo, layout: CopyLayout, runs: Sequence[Path], video_path: Path) -> None:
    """Write the video track: copied pieces from the source, encoded pieces from `runs` (one file each, in order).

    Timestamps are rebuilt on the source's frame grid: picture k shows at k / fps, and decode times run one frame
    apart through every piece, shifted by the deepest reordering of any piece so none decodes after it shows."""
    import av

    gops, pieces = layout.gops, layout.pieces
    run_orders = [packet_order(path) for path in runs]
    try:
        config = merge_configs(gops.order.config, [order.config for order in run_orders])
    except BitstreamError as exc:
        raise VideoProcessingError(f"cannot join copied and encoded pictures: {exc}") from None
    depth = max([gops.order.reorder_depth, *(order.reorder_depth for order in run_orders)])
    time_base = Fraction(source.fps.denominator, source.fps.numerator)
    with av.open(source.path) as source_file, av.open(str(video_path), "w", format="mp4") as output:
        source_stream = source_file.streams.video[0]
        stream = output.add_stream_from_template(source_stream)
        stream.codec_context.extradata = build_avcc(config)
        stream.time_base = time_base
        source_packets = enumerate(_pictures(source_file.demux(source_stream)))  # numbered in decode order
        run_iter = iter(zip(runs, run_orders))
        decode_slot = 0
        for piece in pieces:
            if piece.copied:
                packets = _source_piece(source_packets, gops.order.display_indices, piece)
            else:
                path, order = next(run_iter)
                packets = _run_packets(path, order, piece.frames.start)
            for packet, shown in packets:
                packet.stream = stream
                packet.time_base = time_base
                packet.pts, packet.dts, packet.duration = shown, decode_slot - depth, 1
                output.mux(packet)
                decode_slot += 1
    if decode_slot != source.frame_count:
        video_path.unlink(missing_ok=True)
        raise VideoProcessingError(f"joined {decode_slot} pictures for a {source.frame_count}-frame video")




def _source_piece(source_packets: Iterator, display_indices: tuple[int, ...], piece: Piece) -> Iterator:
    taken = 0
    while taken < piece.frames.length:
        number, packet = next(source_packets)
        shown = display_indices[number]
        if shown in piece.frames:
            taken += 1
            yield packet, shown


def _run_packets(path: Path, order: PacketOrder, first_frame: int) -> Iterator:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet, shown in zip(_pictures(container.demux(stream)), order.display_indices):
            yield packet, first_frame + shown

