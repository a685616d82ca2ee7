"""A short music caption from the measures: "solo piano at about 120 BPM in C major, 4/4, moderately loud"."""

from __future__ import annotations

from dataclasses import dataclass

from annotators.music.tags import MusicTags, group_name
from schemas.common import LabelScore


@dataclass(frozen=True)
class MusicFacts:
    tags: MusicTags
    tempo_bpm: float | None = None
    key: str | None = None
    mode: str | None = None
    meter: str | None = None
    loudness: str | None = None  # words, see loudness.py / timbre.py
    dynamics: str | None = None
    brightness: str | None = None


def instrument_name(label: str) -> str:
    """"Violin, fiddle" -> "violin"; "Keyboard (musical)" -> "keyboard"."""
    return label.split("(")[0].split(",")[0].strip().lower()


def instrument_names(instruments: list[LabelScore]) -> list[str]:
    """Names for the caption: a group name where several instruments of one group fired."""
    groups = [group_name(i.label) for i in instruments]
    out = [g if g is not None and groups.count(g) > 1 else instrument_name(i.label)
           for i, g in zip(instruments, groups, strict=True)]
    return list(dict.fromkeys(out))


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def subject(tags: MusicTags) -> str:
    genre = instrument_name(tags.genres[0].label) if tags.genres else None
    names = instrument_names(tags.instruments)
    if names and tags.solo:
        text = f"solo {names[0]}"
    elif names:
        text = f"{genre or 'music'} with {_join(names)}"
    else:
        text = genre or "music"
    if tags.vocals:
        text += " and vocals" if names and not tags.solo else " with vocals"
    return text


def music_caption(f: MusicFacts) -> str:
    head = subject(f.tags)
    if f.tempo_bpm:
        head += f" at about {round(f.tempo_bpm)} BPM"
    if f.key:
        head += f" in {f.key}" + (f" {f.mode}" if f.mode else "")
    extras = [x for x in (f.meter, f.loudness) if x]
    feel = [x for x in (f.dynamics, f.brightness) if x]
    if feel:
        extras.append(" and ".join(feel))
    return ", ".join([head, *extras])
