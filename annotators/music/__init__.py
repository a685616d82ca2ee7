"""Music branch: tempo, beats, meter, key, loudness, timbre, tagger-based instruments/genre/vocals.
Importing registers the annotator (no heavy imports)."""

from annotators.music import annotator as _annotator  # noqa: F401
