"""`ugc-swap watch`: run every Airtable row marked Pending (or Retry) without Make.com in between.

The watcher claims a row by setting it to Processing before running it, so the row itself shows what is going
on, and a failed row goes back to a person: setting it to Retry runs it again on the next poll.
"""

from __future__ import annotations

import logging
import threading

from ugc_swap.core.errors import UgcSwapError

from .airtable_rows import AirtableRows
from .swap_worker import SwapWorker

log = logging.getLogger(__name__)


def run_ready_rows(worker: SwapWorker, rows: AirtableRows, limit: int = 10) -> list[dict]:
    """Claim and run the rows waiting now; returns their results."""
    results = []
    for job in rows.rows_to_run(limit):
        if not rows.claim(job.record_id):
            log.info("row %s was taken by someone else", job.record_id)
            continue
        log.info("running row %s", job.record_id)
        results.append(worker.handle({"input": job.to_request()}))
    return results


def watch(worker: SwapWorker, rows: AirtableRows, interval_s: float, stop: threading.Event, once: bool = False) -> int:
    """Poll until `stop` is set (or one pass when `once`); returns how many rows were run."""
    ran = 0
    while not stop.is_set():
        try:
            ran += len(run_ready_rows(worker, rows))
        except UgcSwapError as error:  # Airtable down: keep polling, it is the watcher's whole job
            log.error("polling Airtable failed: %s", error)
        if once:
            break
        stop.wait(interval_s)
    return ran
