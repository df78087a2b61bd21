"""The swap settings as node widgets, made from `SwapSettings` itself so both face-replace nodes declare them once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from comfy_api.latest import io

from ..core.engines import SwapSettings

_FIELDS = {f.name: f for f in dataclasses.fields(SwapSettings)}


def swap_setting_inputs(names: Sequence[str], tooltips: Mapping[str, str] | None = None) -> list[io.Input]:
    """Widgets for the named settings, with SwapSettings' defaults, ranges and tooltips (`tooltips` overrides)."""
    inputs: list[io.Input] = []
    for name in names:
        knob = _FIELDS[name]
        meta, default = knob.metadata, knob.default
        common: dict[str, Any] = {"display_name": meta["label"] if meta["label"] != name else None,
                                  "default": default, "tooltip": (tooltips or {}).get(name, meta["tooltip"])}
        if isinstance(default, bool):
            inputs.append(io.Boolean.Input(name, **common))
        elif isinstance(default, int):
            inputs.append(io.Int.Input(name, min=meta["min"], max=meta["max"], **common))
        else:
            inputs.append(io.Float.Input(name, min=meta["min"], max=meta["max"], step=meta["step"], **common))
    return inputs


def swap_settings(values: Mapping[str, Any]) -> SwapSettings:
    """SwapSettings from a node's inputs; settings the node does not show keep their defaults."""
    return SwapSettings(**{name: value for name, value in values.items() if name in _FIELDS})
