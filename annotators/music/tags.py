"""Instruments, genres, moods and vocals from a tagger's AudioSet scores over a music segment.

Scores are averaged over the segment's patches (a music segment's character is what holds throughout).
Instruments keep AudioSet's own names in the tags; related instruments the tagger confuses (piano /
harpsichord / electric piano) are grouped for the caption ("keyboard") and to decide whether it may say "solo".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotators.audioset import labels as L
from schemas.common import LabelScore

# Related instruments the tagger confuses among themselves, with the name the caption uses when several fire.
GROUP_NAMES: dict[str, frozenset[str]] = {name: frozenset(g) for name, g in (
    ("keyboard", {"Piano", "Electric piano", "Harpsichord", "Keyboard (musical)", "Organ", "Electronic organ",
                  "Hammond organ"}),
    ("guitar", {"Guitar", "Electric guitar", "Acoustic guitar", "Steel guitar, slide guitar",
                "Tapping (guitar technique)", "Strum", "Banjo", "Mandolin", "Ukulele", "Plucked string instrument"}),
    ("drums", {"Drum kit", "Drum machine", "Drum", "Snare drum", "Rimshot", "Drum roll", "Bass drum", "Cymbal",
               "Hi-hat", "Percussion"}),
    ("strings", {"Violin, fiddle", "Cello", "Double bass", "String section", "Pizzicato",
                 "Bowed string instrument"}),
    ("mallet percussion", {"Marimba, xylophone", "Glockenspiel", "Vibraphone", "Steelpan", "Mallet percussion"}),
)}
INSTRUMENT_GROUPS: tuple[frozenset[str], ...] = tuple(GROUP_NAMES.values())

@dataclass(frozen=True)
class TagConfig:
    instrument_min_score: float = 0.05
    max_instruments: int = 3
    genre_min_score: float = 0.1
    max_genres: int = 2
    mood_min_score: float = 0.15
    vocals_min_score: float = 0.2  # mean singing score over the segment that counts as vocals
    solo_ratio: float = 0.5  # "solo": every other instrument group scores below this share of the top one
    solo_min_score: float = 0.15  # ... and the top instrument is clearly heard


@dataclass(frozen=True)
class MusicTags:
    instruments: list[LabelScore] = field(default_factory=list)
    genres: list[LabelScore] = field(default_factory=list)
    moods: list[LabelScore] = field(default_factory=list)
    vocals: bool | None = None
    vocals_score: float | None = None
    solo: bool = False

    @property
    def all(self) -> list[LabelScore]:
        return [*self.instruments, *self.genres, *self.moods]


def _top(mean: np.ndarray, idx: Sequence[int], names: Sequence[str], min_score: float, k: int) -> list[LabelScore]:
    ranked = sorted(idx, key=lambda i: -mean[i])
    return [LabelScore(names[i], round(float(mean[i]), 4)) for i in ranked[:k] if mean[i] >= min_score]


def _group(name: str) -> frozenset[str]:
    return next((g for g in INSTRUMENT_GROUPS if name in g), frozenset({name}))


def group_name(label: str) -> str | None:
    return next((name for name, g in GROUP_NAMES.items() if label in g), None)


def is_solo(instruments: list[LabelScore], cfg: TagConfig) -> bool:
    if not instruments or instruments[0].score < cfg.solo_min_score:
        return False
    top_group = _group(instruments[0].label)
    others = [i.score for i in instruments if i.label not in top_group]
    return all(s < cfg.solo_ratio * instruments[0].score for s in others)


def music_tags(scores: np.ndarray, names: Sequence[str], cfg: TagConfig = TagConfig()) -> MusicTags:
    if scores.size == 0:
        return MusicTags()
    mean = scores.mean(axis=0)
    instruments = _top(mean, L.instrument_indices(names), names, cfg.instrument_min_score, cfg.max_instruments)
    genres = _top(mean, L.genre_indices(names), names, cfg.genre_min_score, cfg.max_genres)
    moods = _top(mean, L.mood_indices(names), names, cfg.mood_min_score, 1)
    sing = L.singing_indices(names)
    vocals_score = float(mean[sing].max()) if sing else None
    vocals = None if vocals_score is None else vocals_score >= cfg.vocals_min_score
    return MusicTags(instruments, genres, moods, vocals, None if vocals_score is None else round(vocals_score, 4),
                     is_solo(instruments, cfg) and not vocals)
