from __future__ import annotations

from pipeline.registry import Registry

SEGMENTERS: Registry = Registry(
    "segmenter",
    entry_point_group="moss_annotate.segmenters",
    builtin_modules=("segmenters.vad", "segmenters.event", "segmenters.speakers"),
)
register_segmenter = SEGMENTERS.register
