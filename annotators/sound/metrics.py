"""Sound-event measures against corpus truth (pure functions; `moss-annotate evaluate` calls them).

- label recall: the fraction of truth sound events for which a right AudioSet name is among the top-k labels
  (event labels and their alternatives, by score) of the detected events overlapping the truth span;
- onset error: truth events are matched one-to-one to overlapping detections that name them (closest onset
  first); the median |detected onset - truth onset| over matched pairs;
- precision: the fraction of stated events (what captions say) that overlap a truth sound event they name
  rightly: by one of its AudioSet names, or by an AudioSet ancestor of one ("an animal" for a dog bark).
Only stated events count everywhere: an unstated event is not a claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from annotators.audioset.ontology import is_under
from annotators.sound.truth_labels import audioset_names
from schemas.sound import SoundEvent

DEFAULT_TOP_K = 3


@dataclass(frozen=True)
class TruthEvent:
    label: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SoundScores:
    n_truth: int
    n_detected: int
    label_recall: float  # fraction of truth events named in the top-k labels of overlapping detections
    n_matched: int
    median_onset_error_s: float | None
    median_offset_error_s: float | None
    false_alarm_rate: float  # fraction of detections overlapping no truth sound event
    n_stated: int = 0
    n_right: int = 0  # stated events that name an overlapping truth event (ancestors count)

    @property
    def precision(self) -> float:
        return self.n_right / self.n_stated if self.n_stated else float("nan")


def truth_sound_events(record: Mapping) -> list[TruthEvent]:
    """Sound events of one truth.jsonl record (background beds included)."""
    return [TruthEvent(e["label"], float(e["start"]), float(e["end"]))
            for e in record.get("events", ()) if e.get("kind") == "sound"]


def _overlaps(a_start: float, a_end: float, b_start: float, b_end: float) -> bool:
    return a_start < b_end and b_start < a_end


def ranked_labels(events: Iterable[SoundEvent]) -> list[str]:
    """The events' labels by score, the tagger classes they came from, then their alternatives in their own
    order; each name once."""
    events = sorted(events, key=lambda e: -e.score)
    names = [e.label for e in events] + [e.source_label for e in events if e.source_label]
    for rank in range(max((len(e.alternatives) for e in events), default=0)):
        names += [e.alternatives[rank].label for e in events if rank < len(e.alternatives)]
    return list(dict.fromkeys(names))


def names_truth(truth: TruthEvent, detected: Sequence[SoundEvent], top_k: int = DEFAULT_TOP_K) -> bool:
    overlapping = [d for d in detected if _overlaps(d.start_s, d.end_s, truth.start_s, truth.end_s)]
    return bool(set(ranked_labels(overlapping)[:top_k]) & audioset_names(truth.label))


def _names(det: SoundEvent, truth: TruthEvent, top_k: int) -> bool:
    return bool(set(ranked_labels([det])[:top_k]) & audioset_names(truth.label))


def match_onsets(truth: Sequence[TruthEvent], detected: Sequence[SoundEvent], top_k: int = DEFAULT_TOP_K
                 ) -> list[tuple[TruthEvent, SoundEvent]]:
    """One-to-one pairs (overlapping, right label), closest onsets first."""
    pairs = sorted(
        ((abs(d.start_s - t.start_s), i, j) for i, t in enumerate(truth) for j, d in enumerate(detected)
         if _overlaps(d.start_s, d.end_s, t.start_s, t.end_s) and _names(d, t, top_k)),
    )
    used_t, used_d, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            out.append((truth[i], detected[j]))
    return out


def states_truth(det: SoundEvent, truth: TruthEvent) -> bool:
    """The event's stated label names the truth event: one of its AudioSet names, or an ancestor of one."""
    return _overlaps(det.start_s, det.end_s, truth.start_s, truth.end_s) and any(
        is_under(name, det.label) for name in audioset_names(truth.label))


def stated(detected: Iterable[SoundEvent]) -> list[SoundEvent]:
    return [d for d in detected if getattr(d, "stated", True)]


def score_sound(truth: Sequence[TruthEvent], detected: Sequence[SoundEvent], top_k: int = DEFAULT_TOP_K
                ) -> SoundScores:
    detected = stated(detected)
    right = sum(any(states_truth(d, t) for t in truth) for d in detected)
    named = sum(names_truth(t, detected, top_k) for t in truth)
    pairs = match_onsets(truth, detected, top_k)
    onset = [abs(d.start_s - t.start_s) for t, d in pairs]
    offset = [abs(d.end_s - t.end_s) for t, d in pairs]
    stray = sum(not any(_overlaps(d.start_s, d.end_s, t.start_s, t.end_s) for t in truth) for d in detected)
    return SoundScores(
        n_truth=len(truth),
        n_detected=len(detected),
        label_recall=named / len(truth) if truth else float("nan"),
        n_matched=len(pairs),
        median_onset_error_s=float(np.median(onset)) if onset else None,
        median_offset_error_s=float(np.median(offset)) if offset else None,
        false_alarm_rate=stray / len(detected) if detected else 0.0,
        n_stated=len(detected),
        n_right=right,
    )
