"""Face engines behind one interface, found by name.

An engine is one module in this package that declares `ENGINE = EngineSpec(...)`, plus the saved workflow that
spec names. Nothing else lists engines: the node's engine choice and tooltip, the request validation, the CLI,
`ugc-swap models` and a worker's boot check all read this registry. A module is imported only when its engine is
built.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from functools import lru_cache, partial
from pathlib import Path

from ..errors import UnknownEngineError
from .base import EngineSpec, FaceEngine, SegmentStats, SwapSettings

_NOT_ENGINES = frozenset({"base"})


@lru_cache(maxsize=1)
def engine_specs() -> dict[str, EngineSpec]:
    """Every engine of this package by name, in module-name order with `fast` (the default) first.

    Each module's `ENGINE = EngineSpec(...)` is read from its source rather than by importing it: the driver
    lists engines on every request and at boot, and importing an engine pulls in OpenCV and its models' runtimes
    (tens of MB the driver process would then carry). The engine class is imported when an engine is built."""
    specs: dict[str, EngineSpec] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in _NOT_ENGINES or module_info.name.startswith("_"):
            continue
        spec = _declared_spec(module_info.name)
        if spec is None:
            continue
        if spec.name in specs:
            raise RuntimeError(f"two engine modules declare the engine name {spec.name!r}")
        specs[spec.name] = spec
    return dict(sorted(specs.items(), key=lambda item: item[0] != DEFAULT_ENGINE))


def _declared_spec(module_name: str) -> EngineSpec | None:
    """The module's `ENGINE = EngineSpec(name, summary, workflow[, EngineClass])`, from its source."""
    source = (Path(__file__).parent / f"{module_name}.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ENGINE" for t in node.targets) \
                and isinstance(node.value, ast.Call):
            args = node.value.args
            texts = [ast.literal_eval(a) for a in args[:3]]
            build = None
            if len(args) > 3 and isinstance(args[3], ast.Name):
                build = partial(_build, module_name, args[3].id)
            return EngineSpec(*texts, build)
    return None


def _build(module_name: str, class_name: str) -> FaceEngine:
    return getattr(importlib.import_module(f"{__name__}.{module_name}"), class_name)()


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
