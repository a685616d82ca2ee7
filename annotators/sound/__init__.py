"""Sound branch: AudioSet-tagger sound events. Importing registers the annotator (no heavy imports)."""

from annotators.sound import annotator as _annotator  # noqa: F401
