"""Sources shaped like what people really upload, made from one tagged 2 s-GOP sample video for bin/bench.

Each keeps the sample's pictures and 2 s GOPs, so the job/re-encode ratios differ only by what the file is:
- untagged: H.264 with no colour description at all (many editors' and ffmpeg's exports);
- rotated phone H.264: the pictures stored sideways with a 90 degree rotation flag, as a phone held upright does;
- HEVC 10-bit HLG, rotated: an iPhone's default (Main10, BT.2020 primaries, the HLG transfer, stored sideways).
The HLG file carries the sample's SDR pictures under HLG tags rather than a graded HDR picture: the bench measures
the path's cost (10-bit HEVC decode, tone mapping, the encode), not its look, which tests/test_hdr_footage.py
checks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ugc_swap.core.video.video_stream import ffmpeg_executable

_GOP = ["-g", "60", "-keyint_min", "60"]  # 2 s at 30 fps, as the sample
_TAGS_709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_executable(), "-nostdin", "-v", "error", "-y", *args], check=True)


def untagged_copy(tagged: Path, path: Path) -> Path:
    """`tagged` (H.264) with the stream's colour description and the container's colour box left out, packets
    otherwise as they were."""
    _ffmpeg("-i", str(tagged), "-c", "copy", "-bsf:v",
            "h264_metadata=colour_primaries=2:transfer_characteristics=2:matrix_coefficients=2",
            "-colorspace", "unknown", "-color_primaries", "unknown", "-color_trc", "unknown", str(path))
    return path


def rotation_flagged(video: Path, rotation: int, path: Path) -> Path:
    """`video`'s packets as they are, flagged to be shown turned `rotation` degrees (as a phone flags them)."""
    _ffmpeg("-display_rotation", str(rotation), "-i", str(video), "-c", "copy", str(path))
    return path


def make_upload_kinds(video: Path, folder: Path) -> dict[str, Path]:
    """{kind: path} for the three upload shapes, made from `video` (H.264, BT.709 tags, 2 s GOPs)."""
    untagged, sideways = folder / "kind_untagged.mp4", folder / "kind_sideways.mp4"
    rotated, hlg_sideways, hlg = folder / "kind_rotated.mp4", folder / "kind_hlg_sideways.mp4", folder / "kind_hlg.mp4"
    untagged_copy(video, untagged)
    # Stored turned clockwise and flagged 90 (counter-clockwise): shown upright, as the sample.
    _ffmpeg("-i", str(video), "-vf", "transpose=clock", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
            *_GOP, *_TAGS_709, "-c:a", "copy", str(sideways))
    rotation_flagged(sideways, 90, rotated)
    _ffmpeg("-i", str(video), "-vf", "transpose=clock", "-c:v", "libx265", "-preset", "veryfast", "-crf", "22",
            "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", "-x265-params",
            "keyint=60:min-keyint=60:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc:log-level=error",
            "-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", "arib-std-b67",
            "-c:a", "copy", str(hlg_sideways))
    rotation_flagged(hlg_sideways, 90, hlg)
    for path in (sideways, hlg_sideways):
        path.unlink()
    return {"untagged": untagged, "rotated phone H.264": rotated, "HEVC 10-bit HLG, rotated": hlg}
