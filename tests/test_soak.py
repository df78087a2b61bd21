"""The fault soak's short form (bin/soak runs 100 jobs; figures in docs/reliability.md): 15 jobs through a Pods worker
and a Runpod local-API worker, every fault of tests/soak_faults.py once, in a seeded order. None may be lost or
hung, none uploaded twice, every failure must carry the code its fault causes, and memory must stay flat."""

from __future__ import annotations

from bench.soak import run

from .soak_faults import FAULTS


def test_fifteen_jobs_under_every_fault_end_as_they_must(tmp_path):
    lines: list[str] = []
    outcomes, result = run(len(FAULTS), seed=20261130, folder=tmp_path, progress=lines.append)
    story = "\n".join(lines)
    assert {o.fault for o in outcomes} == {f.name for f in FAULTS}, story
    assert result["lost"] == 0 and result["hung"] == 0, story
    assert result["duplicate_uploads"] == 0 and result["duplicate_webhooks"] == 0, story
    assert not result["unexpected"], story
    assert result["not_fired"] == 0, story
    assert result["restarts"] == 1, story
    for kind, (first, last, _) in result["memory"].items():
        assert last <= 1.1 * first, f"{kind}: {first:.0f} MB first, {last:.0f} MB last\n{story}"
