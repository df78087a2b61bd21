"""Face engines behind one interface; `get_engine(name)` picks one. A new engine is a new module plus one line."""

from __future__ import annotations

from ..errors import UnknownEngineError
from .base import FaceEngine, SegmentStats, SwapSettings

_ENGINE_MODULES = {
    "fast": ("fast_landmark", "FastLandmarkEngine"),
}
# Engines that need model weights from the graph (loaded by ComfyUI's own loader nodes) are built by their node,
# not by name; the driver picks them by choosing their workflow.
GRAPH_ENGINES = {"wan": "workflows/ugc_swap_wan.json (its 'Wan replace' node)"}
STANDALONE_ENGINE_NAMES: tuple[str, ...] = tuple(_ENGINE_MODULES)
ENGINE_NAMES: tuple[str, ...] = (*STANDALONE_ENGINE_NAMES, *GRAPH_ENGINES)


def get_engine(name: str) -> FaceEngine:
    """A fresh engine instance by name; modules are imported on demand so heavy engines cost nothing unused."""
    import importlib

    if name in GRAPH_ENGINES:
        raise UnknownEngineError(f"the {name!r} engine needs its models and runs in {GRAPH_ENGINES[name]}")
    try:
        module_name, class_name = _ENGINE_MODULES[name]
    except KeyError:
        raise UnknownEngineError(f"unknown engine {name!r}; available: {', '.join(ENGINE_NAMES)}") from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)()


__all__ = ["ENGINE_NAMES", "GRAPH_ENGINES", "STANDALONE_ENGINE_NAMES", "FaceEngine", "SegmentStats", "SwapSettings",
           "get_engine"]
