"""A job's provenance: the customer's consent checked before anything is fetched, and the result signed with a C2PA
manifest (c2pa_manifest.py) before it is uploaded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ugc_swap.core.errors import UgcSwapError

from .c2pa_credentials import C2paCredentials
from .c2pa_manifest import ENGINE_MODELS, SwapFacts, sign_video
from .engine_models import files_needed


class ConsentMissingError(UgcSwapError):
    code = "consent_missing"


def check_consent(consent: str | None, required: bool) -> None:
    if required and not consent:
        raise ConsentMissingError("'consent' is missing: this worker makes videos only with the customer's consent "
                                  "on record (a reference and a timestamp, or a URL to the signed consent)")


def engine_models(engine: str) -> tuple[str, ...]:
    """The models behind an engine as the manifest names them: its graph's model files, or its built-in ones."""
    if engine in ENGINE_MODELS:
        return ENGINE_MODELS[engine]
    return tuple(name for _, name in files_needed([engine], os.environ))


def sign_result(video: Path, source: Path, summary: dict[str, Any], job_id: str, record_id: str | None,
                consent: str | None, credentials: C2paCredentials) -> dict[str, Any]:
    """Sign `video` in place; what the result says about it."""
    ranges = tuple((float(s["start_s"]), float(s["end_s"])) for s in summary.get("segments_swapped", []))
    facts = SwapFacts(summary["engine"], engine_models(summary["engine"]), ranges, job_id, record_id, consent,
                      summary.get("watermark"), summary.get("label"))
    sign_video(video, source, facts, credentials)
    return {"signed": True, "signer": credentials.signer_name, "local_signer": credentials.local,
            "digital_source_type": "compositeWithTrainedAlgorithmicMedia", "consent": consent}

