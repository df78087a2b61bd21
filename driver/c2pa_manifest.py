"""Every result carries a signed C2PA manifest saying it is AI-generated (EU AI Act Art. 50(2)): what made it, from
what source, which time ranges were swapped, and the customer's consent reference.

The manifest wraps the file: its boxes are added beside the video's, whose packets are not touched, so copied
GOPs stay the source's own bytes. Read back with `read_manifest` (and `ugc-swap verify`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ugc_swap.core.errors import UgcSwapError

from .c2pa_credentials import C2paCredentials

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
SWAP_ASSERTION = "com.ugc-swap.swap"
GENERATOR = "ugc-swap"
# Models behind each engine, as the manifest names them (the Wan graph's own files come from its workflow).
ENGINE_MODELS = {"fast": ("mediapipe face detection (full range)", "mediapipe face mesh")}


class SigningError(UgcSwapError):
    code = "signing_failed"


@dataclass(frozen=True)
class SwapFacts:
    """What the manifest states about one result."""

    engine: str
    models: tuple[str, ...]
    swapped_ranges_s: tuple[tuple[float, float], ...]
    job_id: str
    record_id: str | None = None
    consent: str | None = None
    watermark: str | None = None  # the invisible mark's payload in the swapped frames (8 hex digits)
    label: str | None = None  # the visible label's setting (none, swapped, whole)
    generator_version: str = field(default_factory=lambda: generator_version())


def generator_version() -> str:
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "custom_nodes" / "ugc_swap" / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["version"]


def swap_manifest(facts: SwapFacts, title: str) -> dict[str, Any]:
    ranges = ", ".join(f"{start:g}-{end:g} s" for start, end in facts.swapped_ranges_s)
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": facts.generator_version}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [
                {"action": "c2pa.opened", "parameters": {"ingredientIds": ["source"]}},
                {"action": "c2pa.edited", "digitalSourceType": DIGITAL_SOURCE_TYPE,
                 "softwareAgent": {"name": f"{GENERATOR} {facts.engine} engine", "version": facts.generator_version},
                 "parameters": {"description": f"the customer's face put in place of the filmed face over {ranges}"}},
            ]}},
            {"label": SWAP_ASSERTION, "data": {
                "engine": facts.engine, "models": list(facts.models),
                "swapped_ranges_s": [list(r) for r in facts.swapped_ranges_s], "job_id": facts.job_id,
                "record_id": facts.record_id, "consent": facts.consent, "watermark": facts.watermark,
                "label": facts.label}},
        ],
    }


def sign_video(video: Path, source: Path, facts: SwapFacts, credentials: C2paCredentials) -> None:
    """Embed the signed manifest in `video` (replaced only once the signed copy is complete), with `source` as the
    parent ingredient (its hash is part of the claim)."""
    import c2pa

    signed = video.with_name(video.name + ".signing")
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg=b"es256", sign_cert=credentials.chain_pem,
                                                           private_key=credentials.key_pem, ta_url=None))
        builder = c2pa.Builder(swap_manifest(facts, video.name))
        with open(source, "rb") as parent:
            builder.add_ingredient({"title": "source video", "relationship": "parentOf", "label": "source"},
                                   "video/mp4", parent)
        with open(video, "rb") as unsigned, open(signed, "wb") as out:
            builder.sign(signer, "video/mp4", unsigned, out)
        os.replace(signed, video)
    except c2pa.C2paError as error:
        # The library's message names the file and the check that failed, never the key.
        raise SigningError(f"the result could not be signed (C2PA: {type(error).__name__}: {error})") from None
    finally:
        signed.unlink(missing_ok=True)


@dataclass(frozen=True)
class ManifestCheck:
    present: bool
    valid: bool  # signature and hashes hold (whoever signed)
    trusted: bool  # ... and the signer chains to a given trust anchor
    problems: tuple[str, ...] = ()
    signer: str | None = None
    generator: str | None = None
    digital_source_type: str | None = None
    swap: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def read_manifest(path: Path, trust_anchors_pem: bytes | None = None) -> ManifestCheck:
    """The file's active manifest checked: valid (intact), trusted (against `trust_anchors_pem`), and what it says."""
    import c2pa

    context = None
    if trust_anchors_pem:
        context = c2pa.Context.from_dict({"trust": {"trust_anchors": trust_anchors_pem.decode()},
                                          "verify": {"verify_trust": True}})
    try:
        reader = c2pa.Reader(str(path), context=context)
    except c2pa.C2paError as error:
        return ManifestCheck(False, False, False, (f"no C2PA manifest ({error})",))
    with reader:
        report = json.loads(reader.json())
        manifest = reader.get_active_manifest() or {}
        state = reader.get_validation_state()
    statuses = report.get("validation_status") or []
    problems = tuple(f"{s.get('code')}: {s.get('explanation', '')}".strip() for s in statuses)
    untrusted_only = all(s.get("code") == "signingCredential.untrusted" for s in statuses)
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or {}).get("actions", [])
    source_type = next((a.get("digitalSourceType") for a in actions if a.get("digitalSourceType")), None)
    generators = manifest.get("claim_generator_info") or [{}]
    return ManifestCheck(
        present=True, valid=not statuses or untrusted_only, trusted=state == "Trusted", problems=problems,
        signer=(manifest.get("signature_info") or {}).get("common_name"),
        generator=f"{generators[0].get('name')} {generators[0].get('version')}",
        digital_source_type=source_type, swap=assertions.get(SWAP_ASSERTION))
