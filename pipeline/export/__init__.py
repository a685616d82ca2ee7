"""Exports of a finished output to what speech and audio trainers load directly.

    moss-annotate export OUT --format lhotse|webdataset|nemo|hf --to DIR

Every format is built from the same per-segment records (`records.py`); formats that carry audio decode each
recording once and cut it at the segment spans (`records.segment_audio`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.export.to_hf import export_hf
from pipeline.export.to_lhotse import export_lhotse
from pipeline.export.to_nemo import export_nemo
from pipeline.export.to_webdataset import export_webdataset

FORMATS: dict[str, Callable[..., dict]] = {
    "lhotse": export_lhotse,
    "webdataset": export_webdataset,
    "nemo": export_nemo,
    "hf": export_hf,
}


def export(out: Path | str, fmt: str, to: Path, **options) -> dict:
    """Write `out` in `fmt` under `to`; returns what was written (counts and paths)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    to.mkdir(parents=True, exist_ok=True)
    return FORMATS[fmt](out, to, **options)
