"""One registry mechanism for annotators and segmenters: a decorator plus entry points for plug-ins."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Maps config keys to classes. Built-ins register on import of `builtin_modules`; third-party
    packages add classes through the entry-point group (name = key, value = "module:Class")."""

    def __init__(self, kind: str, entry_point_group: str, builtin_modules: tuple[str, ...]):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.builtin_modules = builtin_modules
        self._classes: dict[str, T] = {}
        self._loaded = False

    def register(self, key: str) -> Callable[[T], T]:
        def decorator(cls: T) -> T:
            if key in self._classes and self._classes[key] is not cls:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
            cls.key = key
            self._classes[key] = cls
            return cls

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtin_modules:
            importlib.import_module(module)
        for ep in entry_points(group=self.entry_point_group):
            try:
                self._classes.setdefault(ep.name, ep.load())
            except Exception as e:  # a broken plug-in must not hide the built-ins
                log.warning("could not load %s plug-in %r from %s: %s: %s", self.kind, ep.name, ep.value, type(e).__name__, e)
                log.debug("traceback of the failure above", exc_info=e)

    def get(self, key: str) -> T:
        """A registered key, or "package.module:Class" to use a class without registering it."""
        self._load()
        if ":" in key and key not in self._classes:
            module, _, name = key.partition(":")
            try:
                return getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError) as e:
                raise KeyError(f"{self.kind} {key!r} cannot be imported: {e}") from None
        if key not in self._classes:
            raise KeyError(f"unknown {self.kind} {key!r}; available: {', '.join(sorted(self._classes))}")
        return self._classes[key]

    def keys(self) -> list[str]:
        self._load()
        return sorted(self._classes)

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return sorted(self._classes.items())
