"""`python bench/shot_cuts.py` — which cut detector the swap uses, measured: accuracy and cost on edited clips.

Candidates: the swap's own (PySceneDetect's content detector on the frames the engine already has, plus the run
test for dissolves; core/video/shot_cuts.py), PySceneDetect's content detector alone, and ffmpeg's scene score
(`select='gt(scene,T)'`, which needs a decode of its own). Clips: tests/edited_clip.py's edit (cuts between
framings, to another person, to a shot with no face, one 8-frame dissolve) at 360p and 720p, and single shots
with no edit (a slow pan, a fast pan) for false cuts. Writes docs/shot_cuts.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

from scenedetect.detectors import ContentDetector  # noqa: E402

from tests.edited_clip import EDIT, EditedClip, Shot, edited_clip  # noqa: E402
from ugc_swap.core.video.shot_cuts import ShotCuts, _small_bgr  # noqa: E402
from ugc_swap.core.video.video_stream import FINAL_ENCODE, FrameWriter  # noqa: E402
from imageio_ffmpeg import get_ffmpeg_exe  # noqa: E402

CLIPS = {
    "edit 640x360": lambda: edited_clip(640, 360),
    "edit 1280x720": lambda: edited_clip(1280, 720),
    "edit, dissolve 15 frames, 640x360": lambda: edited_clip(640, 360, (*EDIT[:-1], Shot("astronaut", 24, 0.8, 0.55,
                                                                                             "coffee", 15))),
    "one shot, slow pan, 640x360": lambda: edited_clip(640, 360, (Shot("grace_hopper", 90, 0.8, 0.45, "rocket"),)),
    "one shot, fast pan, 640x360": lambda: edited_clip(640, 360, (Shot("grace_hopper", 40, 0.8, 0.45, "rocket",
                                                                       pan_px=10.0),)),
}


def swap_detector(clip: EditedClip) -> tuple[list[int], float, float]:
    cuts = ShotCuts()
    started = time.perf_counter()
    found = [i for i, frame in enumerate(clip.frames) if cuts.new_shot(frame) and i > 0]
    return found, (time.perf_counter() - started) / len(clip.frames), 0.0


def content_alone(clip: EditedClip) -> tuple[list[int], float, float]:
    detector = ContentDetector(min_scene_len=1)
    started = time.perf_counter()
    found = [i for i, frame in enumerate(clip.frames) if detector.process_frame(i, _small_bgr(frame)) and i > 0]
    return found, (time.perf_counter() - started) / len(clip.frames), 0.0


def ffmpeg_scene(path: Path, frames: int, threshold: float) -> tuple[list[int], float, float]:
    """Frames ffmpeg's scene score puts above `threshold`, its cost per frame over a plain decode, and that
    decode's cost per frame (which the job would pay a second time to run it)."""
    ffmpeg = get_ffmpeg_exe()
    started = time.perf_counter()
    subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    decode = time.perf_counter() - started
    started = time.perf_counter()
    run = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-vf",
                          f"select='gt(scene,{threshold})',metadata=print:file=-", "-f", "null", "-"],
                         check=True, capture_output=True, text=True)
    scene = time.perf_counter() - started
    # metadata=print numbers the frames it passes on; the source frame is its time at the clip's 30 fps.
    found = [round(float(t) * 30) for t in re.findall(r"pts_time:\s*([\d.]+)", run.stdout)]
    return found, max(0.0, scene - decode) / frames, decode / frames


def judge(found: list[int], clip: EditedClip) -> tuple[int, int, int]:
    """(cuts found on time, cuts missed, false cuts). On time: a hard cut on its first frame or the next; a
    dissolve anywhere from its first mixed frame to the frame after its last."""
    windows = []
    for cut in clip.cuts:
        dissolve = next((d for d in clip.dissolves if d.start == cut), None)
        windows.append(range(cut, dissolve.stop + 2) if dissolve else range(cut, cut + 2))
    hit = [any(f in w for f in found) for w in windows]
    false = [f for f in found if not any(f in w for w in windows)]
    return sum(hit), len(windows) - sum(hit), len(false)


def main() -> None:
    rows = []
    for name, make in CLIPS.items():
        clip = make()
        height, width = clip.frames[0].shape[:2]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "clip.mp4"
            with FrameWriter(path, width, height, Fraction(30), FINAL_ENCODE) as writer:
                for frame in clip.frames:
                    writer.write(frame)
            results = {"swap's detector (in the engine)": swap_detector(clip),
                       "PySceneDetect content alone": content_alone(clip)}
            for threshold in (0.3, 0.4):
                results[f"ffmpeg scene > {threshold} (own decode)"] = ffmpeg_scene(path, len(clip.frames), threshold)
        for detector, (found, per_frame, decode) in results.items():
            hits, missed, false = judge(found, clip)
            rows.append(f"| {name} | {detector} | {hits} / {hits + missed} | {false} | {per_frame * 1000:.2f} | "
                        f"{decode * 1000:.2f} |")
            print(rows[-1], flush=True)
    out = REPO / "docs" / "shot_cuts.md"
    out.write_text(TEMPLATE.format(date=time.strftime("%Y-%m-%d"), rows="\n".join(rows)))
    print(f"wrote {out}")


TEMPLATE = """# Shot cuts: which detector, and why

Edited demos cut between framings, to other people and to B-roll; the swap must start every shot afresh (tracking,
landmark smoothing, colour and detail statistics, occlusion history and the turn fade reset; Wan generates each
shot on its own). Measured {date} by `python bench/shot_cuts.py` on tests/edited_clip.py's clips: real photos
with synthetic motion (the camera pans, the person talks, blinks and turns), hard cuts and one cross-dissolve.

On time: a hard cut reported on its first frame or the next, a dissolve from its first mixed frame to the frame
after its last. Cost: per frame, on top of what the job does anyway; ffmpeg's is its scene filter's time over a
plain decode of the same file, and the job would pay that decode a second time (last column), which the swap's
detector does not: it reads the frames the engine already has, at 160 px wide.

| clip | detector | cuts on time | false cuts | ms per frame | + a decode of its own, ms per frame |
| --- | --- | --- | --- | --- | --- |
{rows}

**Picked: PySceneDetect's content detector in the engine, with the run test for dissolves.** It sees every frame
as the engine gets it (no second decode of the source, no look-ahead), reports a hard cut on the new shot's first
frame, and its score is the same at 360p and 720p (it is computed at 160 px wide). A dissolve never makes one
large step, so no per-frame threshold catches it without also cutting on camera motion; the run test (a run of
frames changing much more than the shot's own recent motion, ending with a picture as different from the one
before it as a hard cut makes) finds it at its end, where the new shot stands alone. During the dissolve the
swap follows whichever face the tracker holds; frames in it where none is held are reported as `dissolve`.

Limits: a whip pan longer than a second, or a flash, can look like a cut (the swap then restarts tracking on the
same face: a reset, not a visible error); a dissolve slower than a second is not found as one (the tracker picks
the new face up once the old one is lost).
"""


if __name__ == "__main__":
    main()
