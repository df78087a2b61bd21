"""Every result is marked as AI-generated with a signed C2PA manifest, read back with c2pa-python against a test
trust anchor; signing wraps the file without touching a video packet; `ugc-swap verify` tells what a file holds.
(The worker modes check the manifest of every job they finish: worker_check.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest

from driver.c2pa_credentials import make_chain
from driver.c2pa_manifest import DIGITAL_SOURCE_TYPE, SwapFacts, generator_version, read_manifest, sign_video
from driver.job_provenance import ConsentMissingError, check_consent, engine_models
from ugc_swap.core.engines import SwapSettings
from ugc_swap.core.planned_video import plan_video
from ugc_swap.core.sample_media import SampleVideoSpec, sample_face, write_sample_video
from ugc_swap.core.stitch import stitch_video
from ugc_swap.core.swap_segments import swap_segments

REPO = Path(__file__).resolve().parent.parent
FACTS = SwapFacts("fast", engine_models("fast"), ((0.0, 1.0),), "job-1", "recC2PA", "consent-42 2026-11-30")


@pytest.fixture(scope="module")
def signer():
    return make_chain("ugc-swap test")


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """A real result whose kept frames were copied from the source (its GOPs), before and after signing."""
    folder = tmp_path_factory.mktemp("c2pa")
    source = write_sample_video(folder / "source.mp4", SampleVideoSpec(640, 360, Fraction(30), 4.0))
    planned = plan_video(source, "0-1 swap, 1-end keep")
    swapped = swap_segments(planned, sample_face("grace_hopper"), "fast", SwapSettings(), folder / "clips", "c")
    result = stitch_video(swapped, folder / "result.mp4")
    assert result.copied_frames > 0
    return source, result.path


def _signed(source: Path, result: Path, credentials, folder: Path) -> Path:
    signed = folder / "signed.mp4"
    shutil.copy(result, signed)
    sign_video(signed, source, FACTS, credentials)
    return signed


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_the_manifest_says_ai_generated_what_made_it_from_what_and_with_whose_consent(job, signer, tmp_path):
    credentials, ca = signer
    source, result = job
    signed = _signed(source, result, credentials, tmp_path)
    check = read_manifest(signed, ca)
    assert check.valid and check.trusted, check.problems
    assert check.digital_source_type == DIGITAL_SOURCE_TYPE
    assert check.generator == f"ugc-swap {generator_version()}" and check.signer == "ugc-swap test signer"
    assert check.swap == {"engine": "fast", "models": list(engine_models("fast")), "swapped_ranges_s": [[0.0, 1.0]],
                          "job_id": "job-1", "record_id": "recC2PA", "consent": "consent-42 2026-11-30",
                          "watermark": None, "label": None}
    import c2pa

    with c2pa.Reader(str(signed)) as reader:
        [ingredient] = reader.get_active_manifest()["ingredients"]
    assert ingredient["relationship"] == "parentOf" and ingredient["title"] == "source video"
    # Nothing re-encoded: every video packet, copied GOPs included, is the unsigned file's own.
    assert _packets(signed) == _packets(result)


def test_a_reader_without_the_anchor_sees_an_intact_but_untrusted_signer(job, signer, tmp_path):
    credentials, _ = signer
    source, result = job
    signed = _signed(source, result, credentials, tmp_path)
    check = read_manifest(signed)
    assert check.valid and not check.trusted
    assert check.problems == ("signingCredential.untrusted: signing certificate untrusted",)
    _, other_ca = make_chain("someone else")
    assert not read_manifest(signed, other_ca).trusted


def test_a_changed_file_and_an_unsigned_one_are_told_apart(job, signer, tmp_path):
    credentials, ca = signer
    source, result = job
    signed = _signed(source, result, credentials, tmp_path)
    changed = bytearray(signed.read_bytes())
    changed[-2000] ^= 0xFF  # one byte of the picture data
    (tmp_path / "changed.mp4").write_bytes(bytes(changed))
    tampered = read_manifest(tmp_path / "changed.mp4", ca)
    assert tampered.present and not tampered.valid and any("mismatch" in p for p in tampered.problems)
    assert not read_manifest(result, ca).present


def test_verify_reports_on_a_file_and_fails_when_it_is_not_marked(job, signer, tmp_path):
    credentials, ca = signer
    source, result = job
    signed = _signed(source, result, credentials, tmp_path)
    (tmp_path / "ca.pem").write_bytes(ca)

    def verify(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "driver", "verify", str(path), "--trust-anchor",
                               str(tmp_path / "ca.pem")], cwd=REPO, capture_output=True, text=True, timeout=120)

    good = verify(signed)
    assert good.returncode == 0, good.stderr[-2000:]
    report = json.loads(good.stdout)
    assert report["verdict"].startswith("C2PA manifest valid and signed by a trusted certificate;")
    assert report["c2pa"]["swap"]["consent"] == "consent-42 2026-11-30"
    unmarked = verify(result)
    assert unmarked.returncode == 1
    assert json.loads(unmarked.stdout)["verdict"] == "no C2PA manifest; no ugc-swap watermark found"


def test_consent_is_required_only_where_the_worker_says_so():
    check_consent(None, required=False)
    check_consent("ref-1", required=True)
    with pytest.raises(ConsentMissingError, match="'consent' is missing") as refused:
        check_consent("", required=True)
    assert refused.value.code == "consent_missing"
