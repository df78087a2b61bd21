"""The few H.264 bitstream facts that copying untouched GOPs needs: parameter-set ids, IDR pictures, and one mp4
decoder configuration (avcC) that holds the source's parameter sets and those of re-encoded runs side by side.

A single mp4 `avc1` track describes its stream with one avcC record. Re-encoded runs carry their own SPS/PPS, which
differ from the source's; giving them ids the source does not use (x264's `sps-id`) lets one record hold both sets,
and every slice finds its own by id. That keeps the file a plain, spec-conforming avc1 track any player opens.
"""

from __future__ import annotations

from dataclasses import dataclass

_SPS, _PPS, _IDR = 7, 8, 5
_MAX_SPS_ID = 31


@dataclass(frozen=True)
class DecoderConfig:
    """An AVCDecoderConfigurationRecord, split into its parts."""

    profile: int
    compatibility: int
    level: int
    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    trailer: bytes  # High-profile chroma/bit-depth fields, kept as the source wrote them

    @property
    def sps_ids(self) -> frozenset[int]:
        return frozenset(sps_id(unit) for unit in self.sps)


class BitstreamError(ValueError):
    """Bytes that are not the H.264 structure they were taken for."""


def parse_avcc(record: bytes) -> DecoderConfig:
    if len(record) < 7 or record[0] != 1:
        raise BitstreamError("not an avcC record (Annex B extradata or none)")
    length_size = (record[4] & 0x03) + 1
    position = 5
    sps, position = _units(record, position, record[position] & 0x1F)
    pps, position = _units(record, position, record[position])
    return DecoderConfig(record[1], record[2], record[3], length_size, sps, pps, bytes(record[position:]))


def _units(record: bytes, position: int, count: int) -> tuple[tuple[bytes, ...], int]:
    position += 1
    units = []
    for _ in range(count):
        if position + 2 > len(record):
            raise BitstreamError("avcC record cut short")
        size = int.from_bytes(record[position:position + 2], "big")
        units.append(bytes(record[position + 2:position + 2 + size]))
        position += 2 + size
    if position > len(record):
        raise BitstreamError("avcC record cut short")
    return tuple(units), position


def build_avcc(config: DecoderConfig) -> bytes:
    record = bytearray([1, config.profile, config.compatibility, config.level, 0xFC | (config.length_size - 1)])
    record.append(0xE0 | len(config.sps))
    for unit in config.sps:
        record += len(unit).to_bytes(2, "big") + unit
    record.append(len(config.pps))
    for unit in config.pps:
        record += len(unit).to_bytes(2, "big") + unit
    return bytes(record + config.trailer)


def merge_configs(source: DecoderConfig, runs: list[DecoderConfig]) -> DecoderConfig:
    """One record for a stream made of the source's GOPs and re-encoded runs, each run with ids of its own."""
    seen = set(source.sps_ids)
    for run in runs:
        if run.length_size != source.length_size:
            raise BitstreamError("a re-encoded run uses another NAL length size than the source")
        if seen & run.sps_ids:
            raise BitstreamError(f"parameter-set id {sorted(seen & run.sps_ids)} used twice")
        seen |= run.sps_ids
    every = [source, *runs]
    compatibility = source.compatibility
    for run in runs:
        compatibility &= run.compatibility  # only constraints every parameter set meets may be claimed
    return DecoderConfig(
        profile=max(config.profile for config in every),
        compatibility=compatibility,
        level=max(config.level for config in every),
        length_size=source.length_size,
        sps=tuple(unit for config in every for unit in config.sps),
        pps=tuple(unit for config in every for unit in config.pps),
        trailer=source.trailer,
    )


def free_sps_ids(used: frozenset[int], count: int) -> list[int]:
    """`count` SPS/PPS ids the source does not use, or an error when H.264's 32 run out."""
    free = [i for i in range(_MAX_SPS_ID + 1) if i not in used][:count]
    if len(free) < count:
        raise BitstreamError(f"{count} re-encoded runs need more parameter-set ids than H.264 has left")
    return free


def sps_id(unit: bytes) -> int:
    """seq_parameter_set_id: the first Exp-Golomb number after profile, constraints and level."""
    if not unit or unit[0] & 0x1F != _SPS:
        raise BitstreamError("not a sequence parameter set")
    return _BitReader(_unescape(unit[4:])).exp_golomb()


def is_idr_sample(sample: bytes, length_size: int) -> bool:
    """Whether a length-prefixed mp4 sample holds an IDR slice: a decoder can start there with nothing before."""
    position = 0
    while position + length_size <= len(sample):
        size = int.from_bytes(sample[position:position + length_size], "big")
        position += length_size
        if size == 0 or position + size > len(sample):
            raise BitstreamError("NAL unit length runs past the sample")
        if sample[position] & 0x1F == _IDR:
            return True
        position += size
    return False


def _unescape(payload: bytes) -> bytes:
    # Emulation prevention: the encoder inserted 0x03 after every 0x0000 so that no start code appears in a NAL.
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._bit = data, 0

    def _read_bit(self) -> int:
        byte = self._bit >> 3
        if byte >= len(self._data):
            raise BitstreamError("parameter set cut short")
        value = (self._data[byte] >> (7 - (self._bit & 7))) & 1
        self._bit += 1
        return value

    def exp_golomb(self) -> int:
        zeros = 0
        while self._read_bit() == 0:
            zeros += 1
            if zeros > 31:
                raise BitstreamError("malformed Exp-Golomb number")
        value = 0
        for _ in range(zeros):
            value = (value << 1) | self._read_bit()
        return (1 << zeros) - 1 + value
