"""Face engines behind one interface, found by name.

An engine is one module in this package that declares `ENGINE = EngineSpec(...)`, plus the saved workflow that
spec names. Nothing else lists engines: the node's engine choice and tooltip, the request validation, the CLI,
`ugc-swap models` and a worker's boot check all read this registry. Modules are imported when the registry is
first read; an engine keeps its heavy imports (models, torch) inside its functions.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from ..errors import UnknownEngineError
from .base import EngineSpec, FaceEngine, SegmentStats, SwapSettings

_NOT_ENGINES = frozenset({"base"})


@lru_cache(maxsize=1)
def engine_specs() -> dict[str, EngineSpec]:
    """Every engine of this package by name, in module-name order with `fast` (the default) first."""
    specs: dict[str, EngineSpec] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in _NOT_ENGINES or module_info.name.startswith("_"):
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{module_info.name}"), "ENGINE", None)
        if not isinstance(spec, EngineSpec):
            continue
        if spec.name in specs:
            raise RuntimeError(f"two engine modules declare the engine name {spec.name!r}")
        specs[spec.name] = spec
    return dict(sorted(specs.items(), key=lambda item: item[0] != DEFAULT_ENGINE))


DEFAULT_ENGINE = "fast"


def engine_names() -> tuple[str, ...]:
    return tuple(engine_specs())


def standalone_engine_names() -> tuple[str, ...]:
    """Engines built by name, with no model from the graph: the ones the plain face-replace node offers."""
    return tuple(name for name, spec in engine_specs().items() if spec.build is not None)


def engine_spec(name: str) -> EngineSpec:
    try:
        return engine_specs()[name]
    except KeyError:
        raise UnknownEngineError(f"unknown engine {name!r}; available: {', '.join(engine_names())}") from None


def get_engine(name: str) -> FaceEngine:
    """A fresh engine instance by name."""
    spec = engine_spec(name)
    if spec.build is None:
        raise UnknownEngineError(f"the {name!r} engine needs its models and runs in its own graph "
                                 f"(workflows/{spec.workflow})")
    return spec.build()


__all__ = ["DEFAULT_ENGINE", "EngineSpec", "FaceEngine", "SegmentStats", "SwapSettings", "engine_names",
           "engine_spec", "engine_specs", "get_engine", "standalone_engine_names"]
