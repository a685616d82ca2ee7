"""What the sound branch states about a detected event: its tagger class when the score is high enough,
else the nearest AudioSet ancestor the event's classes support together ("a bird" for a doubtful "Crow",
"a pet animal" for Dog vs Cat), else nothing (the event stays in the sound table, unstated).

The packaged quantized YAMNet names the right family far more often than the right leaf: its modest leaf
scores ("Turkey" 0.3 for a rooster, "Fart" for a door) are the false facts a caption must not carry. The
evidence for an ancestor is the noisy-or of the scores of the event's classes under it (label and
alternatives), one lineage or synonym family counted once. An event inside music (the tagger's own Music
score over its span) is stated only when its class is very sure: instruments and recorded music light up
"Printer", "Sewing machine", "Whistle".
Thresholds: `docs/evaluation.md` (calibrated on the shared corpus, then checked at other levels and noise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from annotators.audioset.labels import same_source
from annotators.audioset.ontology import ancestors, is_under, statable


@dataclass(frozen=True)
class StatementConfig:
    leaf_min_score: float = 0.75  # state the tagger's class itself from this score
    ancestor_min_score: float = 0.75  # else the nearest ancestor whose evidence reaches this
    # An unrelated class scoring within this of the label puts the source in doubt: only what both are is
    # stated. Off by default: on the corpus it cost more right statements than wrong ones (docs/evaluation.md).
    conflict_margin: float | None = None
    music_level: float = 0.5  # the tagger's Music score over the span from which an event lies inside music
    under_music_min_score: float = 0.7  # ... where only a class this sure is stated (no back-off)


@dataclass(frozen=True)
class Statement:
    label: str | None  # None: not stated
    score: float  # the evidence for `label` (the class's own score for a leaf)
    reason: str  # why: "sure", "backed off", "uncertain", "conflicting", "inside music"


def evidence(ancestor: str, classes: Sequence[tuple[str, float]]) -> float:
    """How strongly the classes under `ancestor` say it is there: the noisy-or over independent pieces of
    evidence. Classes of one lineage (one under the other: "Roar" under "Roaring cats") or one family of
    synonyms that fire together (`labels.FAMILIES`) are one piece, counted by its best class: AudioSet's labels
    are nested, so a child firing with its parent is the same hearing twice, not a second witness."""
    pieces: list[tuple[list[str], float]] = []
    for name, score in classes:
        if not is_under(name, ancestor):
            continue
        score = min(1.0, max(0.0, score))
        joined = [p for p in pieces if any(related(name, other) for other in p[0])]
        names = [name] + [n for p in joined for n in p[0]]
        best = max([score] + [p[1] for p in joined])
        pieces = [p for p in pieces if p not in joined] + [(names, best)]
    miss = 1.0
    for _, score in pieces:
        miss *= 1.0 - score
    return 1.0 - miss


def related(a: str, b: str) -> bool:
    """One source or one line of descent: "Bark" / "Dog", "Telephone" / "Alarm", "Dog" / "Growling"."""
    return is_under(a, b) or is_under(b, a) or same_source(a, b)


def _common_ancestor(label: str, other: str) -> str | None:
    return next((a for a in ancestors(label) if statable(a) and is_under(other, a)), None)


def decide(label: str, score: float, alternatives: Sequence[tuple[str, float]], music: float,
           cfg: StatementConfig) -> Statement:
    """The statement for one event: its class, an ancestor, or none."""
    if music >= cfg.music_level:
        if score >= cfg.under_music_min_score:
            return Statement(label, score, "sure")
        return Statement(None, score, "inside music")
    classes = [(label, score), *alternatives]
    margin = cfg.conflict_margin
    rival = None if margin is None else max(
        ((n, v) for n, v in alternatives if not related(n, label) and v >= score - margin),
        key=lambda nv: nv[1], default=None)
    if rival is not None:  # two sources fit as well ("Turkey" 0.95, "Telephone" 0.95): only what both are
        common = _common_ancestor(label, rival[0])
        support = evidence(common, classes) if common else 0.0
        if common and support >= cfg.ancestor_min_score:
            return Statement(common, support, "backed off")
        return Statement(None, score, "conflicting")
    if score >= cfg.leaf_min_score:
        return Statement(label, score, "sure")
    for ancestor in ancestors(label):
        if statable(ancestor) and (support := evidence(ancestor, classes)) >= cfg.ancestor_min_score:
            return Statement(ancestor, support, "backed off")
    return Statement(None, score, "uncertain")
