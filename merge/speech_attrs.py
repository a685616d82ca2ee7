"""Paralinguistic attributes of a speech row, wherever the speech branch put them.

The speech caption fields (gender, age, pitch, ...) and measured values (pitch in Hz, words per
second, level in dBFS) may be columns of the row or of one nested struct (a dataclass or a dict).
Only what is there and not null is returned: nothing is ever guessed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from merge.text import capitalize


@dataclass(frozen=True)
class Attribute:
    name: str
    question: str
    answer: str


TEXT_QUESTIONS: dict[str, str] = {
    "gender": "What is the speaker's gender?",
    "age": "How old does the speaker sound?",
    "pitch": "How would you describe the speaker's pitch?",
    "speed": "How fast does the speaker talk?",
    "volume": "How loud is the speaker?",
    "clarity": "How clear is the speaker's voice?",
    "fluency": "How fluent is the speaker?",
    "accent": "What accent does the speaker have?",
    "texture": "How would you describe the texture of the speaker's voice?",
    "emotion": "What emotion does the speaker express?",
    "tone": "What is the speaker's tone?",
    "personality": "What personality does the speaker's voice suggest?",
    "summary": "Describe the speaker's voice.",
}

# (accepted column names, question, answer format) for measured values with a unit in their name.
NUMERIC_QUESTIONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("pitch_hz", "f0_hz", "f0_mean_hz", "pitch_mean_hz", "mean_pitch_hz"),
     "What is the speaker's average pitch?", "About {v:.0f} Hz."),
    (("words_per_s", "words_per_second", "speaking_rate_wps", "speech_rate_wps"),
     "How fast does the speaker talk, in words per second?", "About {v:.1f} words per second."),
    (("syllables_per_s", "syllables_per_second", "speaking_rate_sps"),
     "How fast does the speaker talk, in syllables per second?", "About {v:.1f} syllables per second."),
    (("volume_dbfs", "loudness_dbfs", "speech_level_dbfs", "level_dbfs", "rms_dbfs"),
     "How loud is the speech, in dBFS?", "About {v:.0f} dBFS."),
)


def _sources(row: Any) -> list[Any]:
    """The row and any struct-valued column of it (e.g. a nested `caption_fields`)."""
    out = [row]
    if not dataclasses.is_dataclass(row):
        return out
    for field_ in dataclasses.fields(row):
        value = getattr(row, field_.name)
        if dataclasses.is_dataclass(value) or isinstance(value, dict):
            out.append(value)
    return out


def _get(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (int, float)):
        return not isinstance(value, bool) and math.isfinite(value)
    return False


def _first(sources: list[Any], names: tuple[str, ...]) -> Any:
    for src in sources:
        for name in names:
            value = _get(src, name)
            if _present(value):
                return value
    return None


def speech_attributes(row: Any) -> list[Attribute]:
    sources = _sources(row)
    found: list[Attribute] = []
    for name, question in TEXT_QUESTIONS.items():
        value = _first(sources, (name,))
        if isinstance(value, str):
            found.append(Attribute(name, question, capitalize(value.strip().rstrip(".")) + "."))
    for names, question, answer in NUMERIC_QUESTIONS:
        value = _first(sources, names)
        if isinstance(value, (int, float)):
            found.append(Attribute(names[0], question, answer.format(v=float(value))))
    return found
