"""`bin/soak [--jobs 100] [--seed 1]` — a fault soak of the worker modes (issue: reliability, round two).

Short jobs (a 3 s 360p clip) one after another through the Pods server and the Runpod SDK's local API, each hit
by a fault from a seeded schedule (tests/soak_faults.py: ComfyUI killed, websocket reset, S3 500/503/slow,
webhook 500/timeout, Airtable 429/503, a 1 KB/s download, a download cut mid-body, bad inputs, the worker
SIGTERMed mid-job and started again). Reports lost and hung jobs, duplicate uploads, every failure's code against
the one its fault must cause, and memory (peak PSS of each worker's process tree: the last 10 jobs against the
first 10). With --out, the figures replace the soak section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]

import cv2  # noqa: E402
import pytest  # noqa: E402

from tests.moto_s3 import aws_test_credentials, moto_server  # noqa: E402
from tests.soak_run import JobOutcome, Soak  # noqa: E402
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video  # noqa: E402

_START, _END = "<!-- soak:start -->", "<!-- soak:end -->"


def run(jobs: int, seed: int, folder: Path, progress=print) -> tuple[list[JobOutcome], dict]:
    clip = write_sample_video(folder / "clip.mp4", SampleVideoSpec(640, 360, Fraction(30), 3.0))
    avatar = folder / "avatar.png"
    cv2.imwrite(str(avatar), cv2.cvtColor(sample_face("grace_hopper"), cv2.COLOR_RGB2BGR))
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as patch, moto_server() as s3:
        aws_test_credentials(patch)
        with Soak(folder / "soak", s3, clip, avatar) as soak:
            outcomes = soak.run(jobs, seed, progress)
            restarts = soak.restarts
    return outcomes, summary(outcomes, restarts, time.monotonic() - started)


def summary(outcomes: list[JobOutcome], restarts: int, seconds: float) -> dict:
    memory = {}
    for kind in ("pods", "runpod"):
        peaks = [o.peak_pss_mb for o in outcomes if o.worker == kind and o.peak_pss_mb > 0]
        if len(peaks) >= 4:
            count = min(10, len(peaks) // 2)
            memory[kind] = (max(peaks[:count]), max(peaks[-count:]), count)
    return {
        "jobs": len(outcomes), "seconds": round(seconds), "restarts": restarts,
        "lost": sum(o.status == "lost" for o in outcomes), "hung": sum(o.hung for o in outcomes),
        "duplicate_uploads": sum(max(0, o.uploads - 1) for o in outcomes),
        "duplicate_webhooks": sum(o.webhook_keys > 1 for o in outcomes),
        "unexpected": [o for o in outcomes if not o.as_expected],
        "not_fired": sum(not o.fired for o in outcomes),
        "codes": Counter(o.error_code for o in outcomes if o.status == "Failed"),
        "faults": Counter(o.fault for o in outcomes), "memory": memory,
    }


def report_markdown(result: dict, seed: int) -> str:
    memory = "; ".join(f"{kind}: first {n} jobs {first:.0f} MB, last {n} {last:.0f} MB ({last / first:.2f}×)"
                       for kind, (first, last, n) in result["memory"].items())
    faults = ", ".join(f"{name} {count}" for name, count in sorted(result["faults"].items()))
    codes = ", ".join(f"`{code}` {count}" for code, count in sorted(result["codes"].items())) or "none"
    unexpected = "".join(f"\n  - job {o.index} ({o.worker}, {o.fault}): expected {o.expect}, got {o.status} "
                         f"{o.error_code or ''}, uploads {o.uploads}, Airtable {o.airtable}, hung {o.hung}"
                         for o in result["unexpected"]) or " none"
    return (f"{_START}\nMeasured {date.today().isoformat()} by `bin/soak --jobs {result['jobs']} --seed {seed}` "
            f"({result['seconds'] / 60:.0f} min on this machine):\n\n"
            f"- jobs **{result['jobs']}**, lost **{result['lost']}**, hung **{result['hung']}**, duplicate uploads "
            f"**{result['duplicate_uploads']}**, webhooks with more than one Idempotency-Key "
            f"**{result['duplicate_webhooks']}**, worker restarts after SIGTERM {result['restarts']}\n"
            f"- faults: {faults} (mid-job faults that found no job running to hit: {result['not_fired']})\n"
            f"- failures by code (each the one its fault must cause): {codes}\n"
            f"- outcomes other than expected:{unexpected}\n"
            f"- memory, peak PSS of each worker's process tree per job: {memory}\n{_END}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="a markdown file whose soak section to replace")
    args = parser.parse_args()
    # A stop (SIGTERM from CI or a terminal) unwinds like an exception, so every worker and server started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="ugc_swap_soak_") as temp:
        _, result = run(args.jobs, args.seed, Path(temp))
    text = report_markdown(result, args.seed)
    print(text)
    if args.out:
        page = args.out.read_text()
        head, _, rest = page.partition(_START)
        args.out.write_text(head + text + rest.partition(_END)[2] if _START in page else page + "\n" + text + "\n")
    flat = all(last <= 1.1 * first for first, last, _ in result["memory"].values())
    ok = not (result["lost"] or result["hung"] or result["duplicate_uploads"] or result["unexpected"]) and flat
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
