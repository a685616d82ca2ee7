"""Small text helpers shared by the caption builder, the faithfulness check and the SFT builders."""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Irregular forms an LLM may use for a label's verb ("the phone rang").
_IRREGULAR = {
    "rang": "ring",
    "rung": "ring",
    "sang": "sing",
    "sung": "sing",
    "blew": "blow",
    "blown": "blow",
    "spoke": "speak",
    "spoken": "speak",
    "said": "say",
    "flew": "fly",
    "flown": "fly",
    "fell": "fall",
    "fallen": "fall",
    "went": "go",
    "ran": "run",
}
STEM_CACHE = 65536  # distinct words remembered; captions reuse few words
_MIN_PREFIX = 4  # shortest stem that may match another by prefix ("whistl" ~ "whistle")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes kept inside words."""
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    """A crude English stem, enough to match "barks"/"barking"/"bark" and "flushes"/"flush"."""
    w = _IRREGULAR.get(word.lower(), word.lower())
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("es") and w[:-2].endswith(("s", "sh", "ch", "x", "z")):
        return w[:-2]
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ed"):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def stems_match(a: str, b: str) -> bool:
    """Same stem, one stem a prefix of the other, or a compound ending ("telephone" ~ "phone")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) < _MIN_PREFIX:
        return False
    return long_.startswith(short) or long_.endswith(short)


def contains_stem(word_stems: set[str], target: str) -> bool:
    if target in word_stems:
        return True
    return any(stems_match(target, s) for s in word_stems)


def stem_set(text: str) -> set[str]:
    return {stem(t) for t in tokens(text)}


def fmt_time(t: float, decimals: int) -> str:
    return f"{t:.{decimals}f}"


def fmt_span(start_s: float, end_s: float, decimals: int) -> str:
    return f"{fmt_time(start_s, decimals)} - {fmt_time(end_s, decimals)}"


def join_and(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def capitalize(s: str) -> str:
    return s[:1].upper() + s[1:]


def clean_quote(text: str) -> str:
    """Speech text made safe to put inside double quotes: one line, no double quotes."""
    text = text.replace('"', "'").replace("\u201c", "'").replace("\u201d", "'")
    return " ".join(text.split())


def with_article(noun_phrase: str) -> str:
    return ("an " if noun_phrase[:1].lower() in "aeiou" else "a ") + noun_phrase
