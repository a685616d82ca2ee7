from __future__ import annotations

from pipeline.registry import Registry

# Built-in annotators register themselves on import of these modules (imports are light: models load
# in setup()). Plug-ins: entry points in group "moss_annotate.annotators".
ANNOTATORS: Registry = Registry(
    "annotator",
    entry_point_group="moss_annotate.annotators",
    builtin_modules=("annotators.speech", "annotators.music", "annotators.sound"),
)
register_annotator = ANNOTATORS.register
