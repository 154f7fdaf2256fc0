"""Registration of mmreason with transformers' Auto classes, deferred until transformers' Auto machinery loads.

`import mmreason` must stay cheap (the command line starts in a fraction of a second), yet any transformers
Auto class used afterwards must know the `mmreason` model type. Registering needs the config and model classes,
and any transformers config class imports torch, so registration cannot happen at `import mmreason` unless
transformers' Auto modules are already loaded. Instead a post-import hook (a `sys.meta_path` finder, standard
library only) watches the `transformers` and `mmreason` modules and calls `mmreason.model.register()` as soon as
`transformers.models.auto.configuration_auto` (which every Auto class goes through) has loaded and no module of
either is half-initialised any more (importing mmreason's model code in the middle of, say,
`transformers.modeling_layers` or `mmreason.model.configuration_mmreason` would fail). The hook removes itself
once registration ran.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from types import ModuleType
from typing import Any

_TRIGGER = "transformers.models.auto.configuration_auto"
_lock = threading.RLock()
_state = {"done": False, "running": False}


def _initializing(module: Any) -> bool:
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _watched(name: str) -> bool:
    return name.split(".", 1)[0] in ("transformers", "mmreason") and name != __name__


def _transformers_busy(finished: str | None = None) -> bool:
    """Whether a `transformers` or `mmreason` module (other than `finished`, whose import is just ending) is being
    imported: mmreason's model code cannot be imported in the middle of either."""
    return any(
        _watched(name) and name not in ("mmreason", finished) and _initializing(module)
        for name, module in list(sys.modules.items())
    )


def register_now() -> None:
    """Register mmreason with the Auto classes now (idempotent), and drop the import hook."""
    with _lock:
        if _state["done"] or _state["running"]:
            return
        _state["running"] = True
        try:
            from .model.registration import register

            register()
            _expose_on_transformers()
            _state["done"] = True
        finally:
            _state["running"] = False
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _RegisterAfterTransformers)]


def _expose_on_transformers() -> None:
    """`register()` sets the classes on the `transformers` module it imported; transformers can swap its lazy
    top-level module in `sys.modules` while its Auto modules load, so set them on the current one too (TRL resolves
    `config.architectures[0]` there)."""
    from . import model

    current = sys.modules.get("transformers")
    for name in ("MMReasonConfig", "MMReasonModel", "MMReasonForConditionalGeneration", "MMReasonProcessor",
                 "MMReasonImageProcessor"):  # fmt: skip
        if current is not None and getattr(current, name, None) is None:
            setattr(current, name, getattr(model, name))


def _maybe_register(finished: str | None = None) -> None:
    if not _state["done"] and _TRIGGER in sys.modules and not _transformers_busy(finished):
        register_now()


class _Loader(importlib.abc.Loader):
    """Wraps a transformers module's loader: after the module ran, try to register."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _maybe_register(finished=module.__name__)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, get_filename, ...
        return getattr(self.loader, name)


class _RegisterAfterTransformers(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loaders of `transformers`/`mmreason` modules found by the other finders."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if _state["done"] or not _watched(fullname):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    """Register now if transformers' Auto machinery is loaded and idle, else when it has loaded."""
    if _TRIGGER in sys.modules and not _transformers_busy():
        register_now()
    elif not any(isinstance(finder, _RegisterAfterTransformers) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterTransformers())
