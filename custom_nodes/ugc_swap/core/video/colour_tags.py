"""What an untagged video's colours mean: the matrix players assume when a file does not say.

Many editors and ffmpeg-made files leave H.264's colour description out. Players then guess from the picture size:
BT.709 for HD, BT.601 for SD (mpv's rule: at least 1280 wide or more than 576 high is HD; Debian's chromium was
measured doing the same on a 320x180 and a 1280x720 file). Reading such a file with ffmpeg's own default (BT.601
whatever the size) shifts every colour of an HD video against what its owner saw, so the matrix is named
explicitly wherever the project decodes it.
"""

from __future__ import annotations

BT709, BT601 = "bt709", "bt601"


def player_matrix(stored_width: int, stored_height: int) -> str:
    """The ffmpeg colour-matrix name a player assumes for an untagged picture of this stored size."""
    return BT709 if stored_width >= 1280 or stored_height > 576 else BT601


def decode_matrix_filter(untagged_matrix: str | None) -> str:
    """Options for ffmpeg's scale filter that read the source's samples with the right matrix ('' when the file
    names its own, which ffmpeg then follows)."""
    return f"in_color_matrix={untagged_matrix}:" if untagged_matrix else ""
