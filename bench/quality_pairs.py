"""`python bench/quality_pairs.py` — every face pair at 540p, 720p and 1080p, judged for identity both ways and the
four paste tells, written to docs/quality.md with before/after sheets.

The tuning pairs are the people the engine was developed on; `--holdout` adds pairs of people who were never looked
at while tuning (tests/faces/manifest.tsv marks them), the closest stand-in here for faces the project has never
seen. Sheets go to output/quality/ for every pair; docs/quality/ keeps only the pairs whose two photos are public
domain or under their package's own licence, so nothing of unclear licence is committed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

from tests.face_set import manifest  # noqa: E402
from tests.pair_quality import MAX_TO_AVATAR, MIN_MARGIN, RESOLUTIONS, Pair, Verdict, judge  # noqa: E402
from ugc_swap.core.errors import UgcSwapError  # noqa: E402

TUNE_PAIRS = [
    ("tom_cruise", "obama", "obama_2"), ("dinesh", "hepburn", None), ("hepburn", "rihanna", None),
    ("rihanna", "queen_elizabeth", None), ("queen_elizabeth", "hepburn", None), ("asian_elder", "dave", None),
    ("dave", "asian_man_young", None), ("asian_man_young", "tom_cruise", None), ("biden", "dinesh", None),
    ("obama_3", "biden", None), ("child_girl", "rihanna", None), ("barkla", "bieber", "bieber_2"),
    ("bieber", "john_salley", "john_salley_2"), ("john_salley", "asian_elder", None), ("grayson", "obama", "obama_4"),
    ("mendeleev", "dave", None), ("moseley", "tom_cruise", None), ("ajbuckley", "biden", None),
    ("dmitry", "asian_man_young", None), ("astronaut", "hepburn", None), ("grace_hopper", "dinesh", None),
]
HOLDOUT_PAIRS = [
    ("cage", "dwayne_johnson", "dwayne_johnson_2"), ("dwayne_johnson", "cage", "cage_2"),
    ("jason_statham", "bruce_willis", "bruce_willis_2"), ("bruce_willis", "jason_statham", "jason_statham_2"),
    ("vin_diesel", "john_simm", "john_simm_2"), ("john_simm", "vin_diesel", "vin_diesel_2"),
    ("franck", "middleditch", "middleditch_2"), ("middleditch", "franck", "franck_2"),
    ("nanjiani", "connery", None), ("connery", "nanjiani", None), ("aaron_paul", "ancelotti", None),
    ("ancelotti", "aaron_paul", None), ("film_still_woman", "woman_redhair", None),
    ("woman_redhair", "film_still_woman", None), ("starr", "cranston", None), ("cranston", "starr", None),
    ("takeo", "lorentz", None), ("lorentz", "einstein_2", None), ("einstein_tongue", "voc_man_lowres", None),
    ("asian_bald_glasses", "curie_2", None), ("curie", "asian_bald_glasses", None), ("voc_man_lowres", "takeo", None),
]
_CLEAR_LICENCE = ("public domain", "BSD-2 (Files: *)", "GPL-2+")
SHEETS = REPO / "output" / "quality"
DOC_SHEETS = REPO / "docs" / "quality"
JOURNAL = SHEETS / "journal.jsonl"  # each measured pair, so an interrupted run resumes (--fresh starts over)


def _clear(photo_id: str) -> bool:
    if photo_id in ("astronaut", "grace_hopper"):
        return True
    found = [p for p in manifest() if p.id == photo_id]
    return bool(found) and any(mark in found[0].licence for mark in _CLEAR_LICENCE)


def _crop_face(frame: np.ndarray) -> np.ndarray:
    from ugc_swap.core.faces.landmarks import FaceAnalyzer

    with FaceAnalyzer() as analyzer:
        found = analyzer.detect(frame)
    if not found:
        return cv2.resize(frame, (300, 300))
    x0, y0, x1, y1 = found[0].box
    side, cx, cy = 1.8 * (x1 - x0), (x0 + x1) / 2, (y0 + y1) / 2
    top, left = int(max(0, cy - 0.55 * side)), int(max(0, cx - side / 2))
    return cv2.resize(frame[top:int(cy + 0.45 * side), left:int(cx + side / 2)], (300, 300),
                      interpolation=cv2.INTER_AREA)


def sheet(verdict: Verdict) -> np.ndarray:
    """Filmed frame and result (whole, then the faces zoomed), with the figures written above."""
    source, result = verdict.frames
    height = 300
    whole = [cv2.resize(f, (round(f.shape[1] * height / f.shape[0]), height), interpolation=cv2.INTER_AREA)
             for f in (source, result)]
    row = np.hstack([whole[0], _crop_face(source), whole[1], _crop_face(result)])
    caption = np.full((30, row.shape[1], 3), 255, np.uint8)
    text = (f"{verdict.pair.name}  to avatar {verdict.to_avatar:.3f}  to filmed {verdict.to_filmed:.3f}  margin "
            f"{verdict.margin:+.3f}  {'PASS' if verdict.identity_ok else 'FAIL'}")
    cv2.putText(caption, text, (8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([caption, row])


def run(pairs: list[Pair], done: dict[str, dict]) -> list[dict]:
    """Each pair's row; `done` holds rows already measured in this run's journal (a resumed run skips them)."""
    rows = []
    SHEETS.mkdir(parents=True, exist_ok=True)
    DOC_SHEETS.mkdir(parents=True, exist_ok=True)
    for pair in pairs:
        if pair.name in done:
            rows.append(done[pair.name])
            continue
        rows.append(_measure(pair))
        with JOURNAL.open("a") as journal:
            journal.write(json.dumps(rows[-1], default=float) + "\n")
    return rows


def _measure(pair: Pair) -> dict:
    started = time.perf_counter()
    try:
        verdict = judge(pair)
    except UgcSwapError as refused:  # the avatar gate said no
        print(f"{pair.name}: refused [{refused.code}] {refused.message}", flush=True)
        return {"pair": pair.name, "refused": refused.code, "reason": refused.message}
    except (AssertionError, ValueError) as unmeasured:  # no face for dlib or for the clip's mesh
        print(f"{pair.name}: not measured: {unmeasured}", flush=True)
        return {"pair": pair.name, "refused": "not measured", "reason": str(unmeasured)[:120]}
    name = pair.name.replace("<-", "__").replace("@", "_") + ".png"
    image = cv2.cvtColor(sheet(verdict), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(SHEETS / name), image)
    public = _clear(pair.filmed) and _clear(pair.avatar)
    if public:
        cv2.imwrite(str(DOC_SHEETS / name), image)
    print(verdict.describe(), "PASS" if verdict.identity_ok else "FAIL", flush=True)
    return {"pair": pair.name, "to_avatar": round(verdict.to_avatar, 3), "to_filmed": round(verdict.to_filmed, 3),
            "margin": round(verdict.margin, 3), "identity_ok": verdict.identity_ok,
            "tells_filmed": verdict.tells_filmed, "tells_result": verdict.tells_result,
            "tells_ok": verdict.tells_ok, "sheet": f"quality/{name}" if public else None,
            "seconds": round(time.perf_counter() - started)}


def _table(rows: list[dict]) -> list[str]:
    lines = ["| pair | to avatar | to filmed | margin | identity | edge | sharpness | skin | flicker |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if "refused" in row:
            lines.append(f"| {row['pair']} | refused: `{row['refused']}` ({row['reason']}) | | | | | | | |")
            continue
        tells = []
        for tell in ("edge", "sharpness", "skin", "flicker"):
            filmed, result = row["tells_filmed"][tell], row["tells_result"][tell]
            if filmed != filmed:  # NaN: not measurable on this pair
                tells.append("–")
                continue
            ok = row["tells_ok"].get(tell, True)
            tells.append(f"{result:.2f} / {filmed:.2f} {'ok' if ok else '**off**'}")
        pair = f"[{row['pair']}]({row['sheet']})" if row["sheet"] else row["pair"]
        lines.append(f"| {pair} | {row['to_avatar']:.3f} | {row['to_filmed']:.3f} | {row['margin']:+.3f} | "
                     f"{'pass' if row['identity_ok'] else '**fail**'} | " + " | ".join(tells) + " |")
    return lines


def _summary(rows: list[dict]) -> str:
    judged = [r for r in rows if "refused" not in r]
    identity = sum(r["identity_ok"] for r in judged)
    tells = sum(all(r["tells_ok"].values()) for r in judged)
    margins = [r["margin"] for r in judged]
    return (f"{identity} of {len(judged)} pass the identity rule, {tells} of {len(judged)} have all four tells within "
            f"20 %, {len(rows) - len(judged)} avatar(s) refused by the gate; margin median "
            f"{np.median(margins):+.3f}, worst {min(margins):+.3f}" if judged else "no pair judged")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdout", action="store_true", help="also run the held-out people's pairs (720p)")
    parser.add_argument("--resolutions", default="540p,720p,1080p")
    parser.add_argument("--fresh", action="store_true", help="forget the journal of an interrupted run")
    args = parser.parse_args()
    SHEETS.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        JOURNAL.unlink(missing_ok=True)
    done = {row["pair"]: row for row in map(json.loads, JOURNAL.read_text().splitlines())} if JOURNAL.is_file() \
        else {}
    resolutions = args.resolutions.split(",")
    tune = [Pair(f, a, r, res) for res in resolutions for f, a, r in TUNE_PAIRS]
    sections = {"Tuning pairs": run(tune, done)}
    if args.holdout:
        sections["Held-out pairs (people never used while tuning)"] = run(
            [Pair(f, a, r, "720p") for f, a, r in HOLDOUT_PAIRS], done)
    (REPO / "docs" / "quality.json").write_text(json.dumps(sections, indent=1, default=float))
    lines = [f"Measured {time.strftime('%Y-%m-%d')} by `python bench/quality_pairs.py"
             f"{' --holdout' if args.holdout else ''}` on the fast engine with its default settings. Rule: "
             f"distance to the avatar's person at most {MAX_TO_AVATAR} (against a second photo where the set has "
             f"one) and margin over the filmed person at least {MIN_MARGIN}; tells: result / filmed, within 20 %.", ""]
    for title, rows in sections.items():
        lines += [f"### {title}", "", _summary(rows), "", *_table(rows), ""]
    doc = REPO / "docs" / "quality.md"
    text = doc.read_text() if doc.is_file() else "# Quality\n\n<!-- pairs:start -->\n<!-- pairs:end -->\n"
    start, end = text.index("<!-- pairs:start -->"), text.index("<!-- pairs:end -->")
    doc.write_text(text[:start] + "<!-- pairs:start -->\n" + "\n".join(lines) + "\n" + text[end:])
    print(f"wrote {doc}")


if __name__ == "__main__":
    main()
