"""The faults a fault soak injects (bench/soak.py, tests/test_soak.py), each with what a job hit by it must end as.

A fault is armed before its job is submitted (scripted answers of S3, the webhook receiver, Airtable, the input
host) or fired while it runs (ComfyUI killed, the worker's websocket to ComfyUI cut, the worker stopped with
SIGTERM). `expect` is "Complete" or the stable error code the job must fail with.
"""

from __future__ import annotations

from dataclasses import dataclass

BOTH = ("pods", "runpod")


@dataclass(frozen=True)
class Fault:
    name: str
    workers: tuple[str, ...]  # the worker kinds it can hit
    expect: str  # "Complete", or the error code of the failure it must cause
    weight: float  # how often the seeded schedule picks it
    fired_mid_job: bool = False  # needs the job running (else it is armed before the job)
    what: str = ""


FAULTS: tuple[Fault, ...] = (
    Fault("none", BOTH, "Complete", 3.0, what="no fault"),
    Fault("comfyui_killed", ("pods",), "Complete", 1.0, True, "the worker's ComfyUI SIGKILLed mid-swap"),
    Fault("websocket_dropped", ("runpod",), "Complete", 1.0, True,
          "every connection between the worker and ComfyUI reset mid-job"),
    Fault("s3_503", BOTH, "Complete", 1.0, what="S3 answers the video's PUT with 503 SlowDown twice"),
    Fault("s3_500_for_good", BOTH, "upload_failed", 0.5, what="S3 answers every PUT of the video with 500"),
    Fault("s3_slow", BOTH, "Complete", 1.0, what="S3 answers the next three PUTs after 2 s each"),
    Fault("webhook_500", BOTH, "Complete", 1.0, what="the webhook answers 500 once, then 200"),
    Fault("webhook_timeout", BOTH, "Complete", 0.5, what="the webhook never answers within its timeout"),
    Fault("airtable_429", BOTH, "Complete", 1.0, what="Airtable answers 429 twice"),
    Fault("airtable_503", BOTH, "Complete", 1.0, what="Airtable answers 503 once"),
    Fault("download_1kbps", BOTH, "input_timeout", 0.5, what="the video is served at 1 KB/s"),
    Fault("download_cut", BOTH, "input_unreachable", 0.5,
          what="the video's host closes the connection half-way through the body (\"the download broke off\")"),
    Fault("bad_avatar", BOTH, "input_wrong_type", 0.5, what="the avatar URL serves a text page"),
    Fault("missing_video", BOTH, "input_not_found", 0.5, what="the video URL answers 404"),
    Fault("worker_sigterm", ("pods",), "Complete", 0.5, True,
          "the worker SIGTERMed mid-job (it finishes the job, exits, and is started again)"),
)


def schedule(jobs: int, seed: int) -> list[tuple[str, Fault]]:
    """(worker kind, fault) per job: every fault once first (in a seeded order, so even a short soak meets each),
    then seeded random picks by weight; the worker alternates."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = [FAULTS[i] for i in rng.permutation(len(FAULTS))]
    weights = np.array([fault.weight for fault in FAULTS])
    order += [FAULTS[i] for i in rng.choice(len(FAULTS), max(0, jobs - len(order)), p=weights / weights.sum())]
    plan = []
    for index, fault in enumerate(order[:jobs]):
        worker = BOTH[index % 2]
        if worker not in fault.workers:
            worker = fault.workers[0]
        plan.append((worker, fault))
    return plan
