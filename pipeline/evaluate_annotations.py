"""Annotation measures of `moss-annotate evaluate`: speech WER, speaker count, word timing, sound labels and
onsets, music tempo and instruments, each from the written tables of one recording against its truth record.

Every metric takes a `RecordingCase` and returns named numbers (None = not applicable to this recording).
Counts that make a corpus figure (WER errors and words, sound events named and scored) are emitted per
recording so that `corpus_totals` can divide sums instead of averaging ratios; per-item errors whose corpus
figure is a median are put in `case.samples` and pooled the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from statistics import median
from typing import TYPE_CHECKING

from annotators.music.metrics import OCTAVE_FACTORS, TruthMusic, best_overlap, tempo_error_pct, truth_music_events
from annotators.music.truth_labels import instrument_audioset_names
from annotators.sound.metrics import DEFAULT_TOP_K, match_onsets, names_truth, score_sound, stated, truth_sound_events
from pipeline.wer import edit_distance, normalize_text
from schemas.common import LabelScore
from schemas.music import MusicRow
from schemas.sound import SoundEvent

if TYPE_CHECKING:
    from pipeline.evaluate import Measures, RecordingCase

# Corpus figures that are a ratio of summed per-recording counts: name -> (numerator, denominator).
RATIO_TOTALS: dict[str, tuple[str, str]] = {
    "wer": ("wer_errors", "wer_words"),
    "sound_label_recall": ("sound_named", "sound_truth_events"),
    "sound_precision": ("sound_right", "sound_stated"),
    "instrument_named": ("music_named", "music_scored"),
    "tempo_within_4pct": ("tempo_within", "tempo_scored"),
}
TEMPO_TOLERANCE_PCT = 4.0
# Corpus figures that are the median of pooled per-item samples: name -> sample key.
MEDIAN_TOTALS: dict[str, str] = {
    "word_time_error_s": "word_time_error_s",
    "word_start_error_s": "word_start_error_s",
    "word_end_error_s": "word_end_error_s",
    "sound_onset_error_s": "sound_onset_error_s",
    "tempo_error_pct": "tempo_error_pct",
}
# Corpus figures that are the share of recordings where a 0/1 measure holds.
SHARE_TOTALS: tuple[str, ...] = ("speakers_match",)


def _speech_events(case: RecordingCase) -> list[dict]:
    return sorted((e for e in case.truth.get("events", ()) if e.get("kind") == "speech"), key=lambda e: e["start"])


def _speech_rows(case: RecordingCase) -> list[dict]:
    return sorted(case.rows("speech"), key=lambda r: (r["start_s"], r["end_s"]))


def _words(case: RecordingCase) -> list[dict]:
    return sorted((w for r in _speech_rows(case) for w in (r.get("words") or ())), key=lambda w: w["start_s"])


# --- speech: WER -------------------------------------------------------------------------------------------


def speech_wer_metric(case: RecordingCase) -> Measures:
    """Normalised WER of the speech rows' text (time order) against the truth speech text (time order)."""
    events = _speech_events(case)
    if not events:
        return {"wer": None, "wer_errors": None, "wer_words": None}
    ref = normalize_text(" ".join(e.get("text") or "" for e in events))
    hyp = normalize_text(" ".join(r.get("text") or "" for r in _speech_rows(case)))
    errors = edit_distance(ref, hyp)
    return {"wer": errors / len(ref) if ref else None, "wer_errors": float(errors), "wer_words": float(len(ref))}


# --- speech: speakers --------------------------------------------------------------------------------------


def found_speakers(rows: Iterable[dict]) -> set[str]:
    """Distinct speaker labels of the speech rows: the rows' own and their words'."""
    out = set()
    for r in rows:
        out.update(w["speaker"] for w in (r.get("words") or ()) if w.get("speaker"))
        if r.get("speaker"):
            out.add(r["speaker"])
    return out


def speaker_count_metric(case: RecordingCase) -> Measures:
    """Distinct speakers found vs distinct truth speakers; the match is None where the truth has no speech."""
    truth = {e.get("speaker") or e["label"] for e in _speech_events(case)}
    found = found_speakers(case.rows("speech"))
    return {
        "speakers_found": float(len(found)),
        "speakers_truth": float(len(truth)),
        "speakers_match": (1.0 if len(found) == len(truth) else 0.0) if truth else None,
    }


# --- speech: word timing -----------------------------------------------------------------------------------


def word_time_errors(events: Sequence[Mapping], words: Sequence[Mapping]) -> tuple[list[float], list[float], int]:
    """Per truth speech event: |first overlapping word start - event start| and |last word end - event end|.
    Returns the start errors, the end errors and the number of events no word overlaps (they add no error)."""
    starts, ends, missed = [], [], 0
    for e in events:
        inside = [w for w in words if w["start_s"] < e["end"] and e["start"] < w["end_s"]]
        if not inside:
            missed += 1
            continue
        starts.append(abs(min(w["start_s"] for w in inside) - e["start"]))
        ends.append(abs(max(w["end_s"] for w in inside) - e["end"]))
    return starts, ends, missed


def word_time_metric(case: RecordingCase) -> Measures:
    """Median absolute error of the word-timed span of each truth speech event (starts and ends pooled; each
    side alone too, since the two err differently)."""
    events = _speech_events(case)
    if not events:
        return {k: None for k in ("word_time_error_s", "word_start_error_s", "word_end_error_s",
                                  "word_time_events_missed")}
    starts, ends, missed = word_time_errors(events, _words(case))
    case.samples.update(word_time_error_s=starts + ends, word_start_error_s=starts, word_end_error_s=ends)
    return {
        "word_time_error_s": median(starts + ends) if starts else None,
        "word_start_error_s": median(starts) if starts else None,
        "word_end_error_s": median(ends) if ends else None,
        "word_time_events_missed": float(missed),
    }


# --- sound -------------------------------------------------------------------------------------------------


def _label_scores(items: Iterable[Mapping] | None) -> list[LabelScore]:
    return [LabelScore(i["label"], float(i["score"])) for i in (items or ())]


def detected_sound_events(rows: Iterable[dict]) -> list[SoundEvent]:
    return [
        SoundEvent(e["label"], e["start_s"], e["end_s"], float(e["score"]), bool(e.get("background")),
                   e.get("loudness_dbfs"), int(e.get("count") or 1), _label_scores(e.get("alternatives")),
                   e.get("stated") is not False, e.get("source_label"), e.get("source_score"))
        for r in rows for e in (r.get("events") or ())
    ]


def sound_metric(case: RecordingCase, top_k: int = DEFAULT_TOP_K) -> Measures:
    """Top-k label recall of the truth sound events and the median onset error of the matched ones."""
    truth = truth_sound_events(case.truth)
    detected = stated(detected_sound_events(case.rows("sound")))
    s = score_sound(truth, detected, top_k)
    claims = {  # a sound stated where the truth has none is a wrong claim too
        "sound_precision": s.precision if s.n_stated else None,
        "sound_right": float(s.n_right),
        "sound_stated": float(s.n_stated),
    }
    if not truth:
        return {**{k: None for k in ("sound_label_recall", "sound_named", "sound_truth_events", "sound_onset_error_s",
                                     "sound_matched", "sound_false_alarm_rate")}, **claims}
    named = sum(names_truth(t, detected, top_k) for t in truth)
    # The same pairs score_sound takes its median from, kept for the corpus median.
    case.samples["sound_onset_error_s"] = [abs(d.start_s - t.start_s) for t, d in match_onsets(truth, detected, top_k)]
    return {
        "sound_label_recall": s.label_recall,
        "sound_named": float(named),
        "sound_truth_events": float(s.n_truth),
        "sound_onset_error_s": s.median_onset_error_s,
        "sound_matched": float(s.n_matched),
        "sound_false_alarm_rate": s.false_alarm_rate,
        **claims,
    }


# --- music -------------------------------------------------------------------------------------------------


def music_row(row: Mapping) -> MusicRow:
    return MusicRow(row["recording_id"], row["segment_id"], row["start_s"], row["end_s"], row.get("model_id") or "",
                    tempo_bpm=row.get("tempo_bpm"), tags=_label_scores(row.get("tags")),
                    instruments=_label_scores(row.get("instruments")))


def instrument_named(row: MusicRow, truth: TruthMusic) -> bool | None:
    """A truth instrument is named among the row's instruments or tags; None when no truth instrument is known."""
    wanted = [n for n in (instrument_audioset_names(t) for t in truth.instruments) if n]
    if not wanted:
        return None
    named = {t.label for t in (*row.instruments, *row.tags)}
    return any(w & named for w in wanted)


def music_metric(case: RecordingCase) -> Measures:
    """Tempo error (plain and octave-tolerant, %) and instrument naming per truth music event, against the
    music row overlapping it most; means over the recording's events."""
    truth = truth_music_events(case.truth)
    if not truth:
        return {k: None for k in ("tempo_error_pct", "tempo_error_octave_pct", "tempo_bpm", "instrument_named",
                                  "music_named", "music_scored", "music_events_missed", "tempo_within_4pct",
                                  "tempo_within", "tempo_scored")}
    rows = [music_row(r) for r in case.rows("music")]
    tempo, octave, found, named, missed = [], [], [], [], 0
    for t in truth:
        row = best_overlap(rows, t)
        if row is None:
            missed += 1
            named.append(False)
            continue
        if t.tempo_bpm:
            err = tempo_error_pct(row.tempo_bpm, t.tempo_bpm)
            tempo.append(100.0 if err is None else err)  # a row with no tempo misses it entirely
            octave.append(100.0 if err is None else tempo_error_pct(row.tempo_bpm, t.tempo_bpm, OCTAVE_FACTORS))
            found.append(row.tempo_bpm)
        hit = instrument_named(row, t)
        if hit is not None:
            named.append(hit)
    case.samples["tempo_error_pct"] = tempo
    return {
        "tempo_error_pct": _mean(tempo),
        "tempo_error_octave_pct": _mean(octave),
        "tempo_bpm": found[0] if len(found) == 1 else None,  # shown only where it is unambiguous
        "instrument_named": _mean([float(n) for n in named]),
        "music_named": float(sum(named)),
        "music_scored": float(len(named)),
        "music_events_missed": float(missed),
        # share of truth tempos met within 4 % ("tempo unknown" counts as a miss, but states nothing false)
        "tempo_within_4pct": sum(e <= TEMPO_TOLERANCE_PCT for e in tempo) / len(tempo) if tempo else None,
        "tempo_within": float(sum(e <= TEMPO_TOLERANCE_PCT for e in tempo)),
        "tempo_scored": float(len(tempo)),
    }


def _mean(values: Sequence[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


ANNOTATION_METRICS = [speech_wer_metric, speaker_count_metric, word_time_metric, sound_metric, music_metric]


# --- corpus figures ----------------------------------------------------------------------------------------


def corpus_totals(results: Sequence[Mapping]) -> Measures:
    """Corpus-level figures: ratios of summed counts, medians of pooled samples, shares of recordings."""
    out: Measures = {}
    for name, (num, den) in RATIO_TOTALS.items():
        n = sum(r["measures"].get(num) or 0.0 for r in results)
        d = sum(r["measures"].get(den) or 0.0 for r in results)
        out[name] = n / d if d else None
    for name, key in MEDIAN_TOTALS.items():
        pooled = [v for r in results for v in r.get("samples", {}).get(key, ())]
        out[name] = median(pooled) if pooled else None
    for name in SHARE_TOTALS:
        out[name] = _mean([r["measures"].get(name) for r in results])
    return out
