"""The tagger adapter contract (frame-level AudioSet-style scores) and how config names one.

YAMNet is the default. Other weights plug in with a class that has `class_names`, `patch_s`, `setup()` and
`frame_scores()`: PANNs, BEATs, CLAP (with a fixed label list) or musicnn heads all fit. Config selects one by
name ("yamnet") or by import path ("my_pkg.taggers:PannsTagger"); the class is built as
`cls(model_path=..., device=...)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TaggerAdapter(Protocol):
    class_names: list[str]  # after setup()
    patch_s: float  # length of audio behind one score row

    @property
    def model_id(self) -> str: ...

    def setup(self) -> None: ...

    def frame_scores(self, samples: np.ndarray, sample_rate: int = 16000, hop_s: float = 0.48
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(starts_s [T] float64, scores [T, C] float32 in 0..1); empty or short audio gives one row."""
        ...


def _yamnet(model_path: str | None, device: str) -> TaggerAdapter:
    from annotators.audioset.yamnet import YamNet

    return YamNet(model_path=model_path, device=device)


BUILTIN_TAGGERS: dict[str, Callable[[str | None, str], TaggerAdapter]] = {"yamnet": _yamnet}


def check_tagger_name(name: str) -> str:
    """Validate a tagger name at config time (cheap: nothing is imported for built-ins)."""
    if name in BUILTIN_TAGGERS or (":" in name and all(name.split(":", 1))):
        return name
    raise ValueError(f"unknown tagger {name!r}; use one of {sorted(BUILTIN_TAGGERS)} or 'package.module:Class'")


def make_tagger(name: str, model_path: str | None = None, device: str = "cpu") -> TaggerAdapter:
    """Build (not load) a tagger; call setup() on it once per actor."""
    check_tagger_name(name)
    if name in BUILTIN_TAGGERS:
        return BUILTIN_TAGGERS[name](model_path, device)
    module, cls_name = name.split(":", 1)
    cls = getattr(importlib.import_module(module), cls_name)
    tagger = cls(model_path=model_path, device=device)
    if not isinstance(tagger, TaggerAdapter):
        raise TypeError(f"{name} does not implement TaggerAdapter (class_names, patch_s, setup, frame_scores)")
    return tagger
