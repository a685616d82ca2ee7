"""`moss-annotate evaluate OUT --truth truth.jsonl`: score a finished run against ground truth.

Recordings are matched to truth entries by file name (basename of the `recordings.uri` == basename of the
truth `file`). Every measure is a function in `METRICS`: it takes a `RecordingCase` (the recording's row, its
truth record, and lazy access to any output table) and returns named numbers (None = not applicable).
Add a measure by appending a function. Segmentation measures (boundary F1, routing time-F1) are in
`segmenters/metrics.py`, shared with the tests; annotation measures (WER, speakers, word timing, sound labels and
onsets, tempo, instruments) are in `pipeline/evaluate_annotations.py`.

The result has per-recording measures, their `mean` over recordings where they apply, and corpus `totals`
(WER = summed errors / summed words, pooled medians) where a mean of per-recording ratios would mislead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import pyarrow.parquet as pq

from pipeline.evaluate_annotations import ANNOTATION_METRICS, corpus_totals
from schemas.common import BRANCHES
from segmenters.metrics import TOLERANCES_S, ScoredSpan, score_segmentation

Measures = dict[str, float | None]


class OutputTables:
    """Rows of OUT/<table>/*.parquet grouped by recording_id, read once on first use."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self._cache: dict[str, dict[str, list[dict]]] = {}

    def rows(self, table: str, recording_id: str) -> list[dict]:
        if table not in self._cache:
            self._cache[table] = self._read(table)
        return self._cache[table].get(recording_id, [])

    def all_rows(self, table: str) -> list[dict]:
        if table not in self._cache:
            self._cache[table] = self._read(table)
        return [r for rows in self._cache[table].values() for r in rows]

    def _read(self, table: str) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = {}
        for path in sorted((self.out_dir / table).glob("*.parquet")):
            for row in pq.read_table(path).to_pylist():
                grouped.setdefault(row.get("recording_id", ""), []).append(row)
        return grouped


@dataclass
class RecordingCase:
    recording: dict  # the `recordings` row
    truth: dict  # the truth.jsonl record
    tables: OutputTables
    cache: dict = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)  # per-item errors pooled into corpus medians

    def rows(self, table: str) -> list[dict]:
        return self.tables.rows(table, self.recording["recording_id"])


Metric = Callable[[RecordingCase], Measures]


def _spans(case: RecordingCase) -> list[ScoredSpan]:
    out = []
    for row in case.rows("segments"):
        reasons = row.get("boundary_reasons") or {}
        out.append(ScoredSpan(row["start_s"], row["end_s"], tuple(row.get("branches") or ()),
                              reasons.get("start") or "", reasons.get("end") or ""))
    return sorted(out, key=lambda s: s.start_s)


def segmentation_metric(case: RecordingCase) -> Measures:
    """Boundary hit-rate F1 (+-0.5 s, +-0.2 s) and per-branch routing time-F1 (10 ms frames)."""
    scores = score_segmentation(_spans(case), case.truth)
    out: Measures = {}
    for tol in TOLERANCES_S:
        f = scores[f"boundary_f1@{tol}"]
        out[f"boundary_f1@{tol}"] = f.f1
        out[f"boundary_precision@{tol}"] = f.precision
        out[f"boundary_recall@{tol}"] = f.recall
    for kind in BRANCHES:
        f = scores["routing_f1"][kind]
        out[f"routing_f1.{kind}"] = f.f1 if f is not None else None
        out[f"false_routing_s.{kind}"] = scores["false_routing_s"][kind]
    return out


def segment_count_metric(case: RecordingCase) -> Measures:
    rows = case.rows("segments")
    return {"segments": float(len(rows)), "truth_events": float(len(case.truth.get("events", [])))}


METRICS: list[Metric] = [segmentation_metric, segment_count_metric, *ANNOTATION_METRICS]


def uri_basename(uri: str) -> str:
    return PurePosixPath(unquote(urlparse(uri).path) if "://" in uri else uri.replace("\\", "/")).name


def read_truth(truth_path: Path) -> dict[str, dict]:
    """Truth records by file basename."""
    out = {}
    for line in Path(truth_path).read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[PurePosixPath(rec["file"]).name] = rec
    return out


def evaluate_output(out_dir: Path, truth_path: Path, metrics: list[Metric] | None = None) -> dict:
    """Score every output recording that has a truth entry; JSON-ready result with per-recording measures,
    their means (over recordings where a measure applies) and what could not be matched."""
    truth = read_truth(truth_path)
    tables = OutputTables(out_dir)
    recordings = tables.all_rows("recordings")
    if not recordings:
        raise FileNotFoundError(f"no recordings table under {out_dir} (is it an output folder of `run`?)")
    results, matched = [], set()
    for rec in sorted(recordings, key=lambda r: r["uri"]):
        name = uri_basename(rec["uri"])
        if name not in truth:
            continue
        matched.add(name)
        case = RecordingCase(rec, truth[name], tables)
        measures: Measures = {}
        for metric in metrics or METRICS:
            measures.update(metric(case))
        results.append({"file": name, "recording_id": rec["recording_id"], "status": rec["status"],
                        "measures": measures, "samples": case.samples})
    return {
        "recordings": results,
        "mean": _means(results),
        "totals": corpus_totals(results),
        "unmatched_truth": sorted(set(truth) - matched),
        "unmatched_output": sorted(uri_basename(r["uri"]) for r in recordings if uri_basename(r["uri"]) not in truth),
    }


def _means(results: list[dict]) -> Measures:
    names = dict.fromkeys(k for r in results for k in r["measures"])
    out: Measures = {}
    for name in names:
        values = [r["measures"][name] for r in results if r["measures"].get(name) is not None]
        out[name] = sum(values) / len(values) if values else None
    return out


TABLE_COLUMNS = ("boundary_f1@0.5", "boundary_f1@0.2", "routing_f1.speech", "routing_f1.music", "routing_f1.sound")


HEADERS = {"boundary_f1@0.5": "boundary F1 ±0.5s", "boundary_f1@0.2": "boundary F1 ±0.2s",
           **{f"routing_f1.{b}": f"routing F1 {b}" for b in BRANCHES}}


def _header(measure: str) -> str:
    return HEADERS.get(measure, measure)


@dataclass(frozen=True)
class AnnotationColumn:
    header: str
    measure: str  # per-recording measure, and the `totals` figure of the corpus row
    fmt: str = "{:.3f}"


ANNOTATION_COLUMNS: tuple[AnnotationColumn, ...] = (
    AnnotationColumn("WER", "wer"),
    AnnotationColumn("speakers found/ truth", "speakers_match"),
    AnnotationColumn("word time err (s)", "word_time_error_s"),
    AnnotationColumn("sound recall top3", "sound_label_recall"),
    AnnotationColumn("sound prec.", "sound_precision"),
    AnnotationColumn("sound onset err (s)", "sound_onset_error_s"),
    AnnotationColumn("tempo err %", "tempo_error_pct", "{:.1f}"),
    AnnotationColumn("tempo ±4%", "tempo_within_4pct", "{:.2f}"),
    AnnotationColumn("instr. named", "instrument_named", "{:.2f}"),
)


def _fmt(v: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def _speakers_cell(measures: Measures) -> str:
    found, truth = measures.get("speakers_found"), measures.get("speakers_truth")
    if not truth:
        return "-" if not found else f"{found:.0f}/0"
    mark = "" if found == truth else " [red]x"
    return f"{found:.0f}/{truth:.0f}{mark}"


def _annotation_cell(col: AnnotationColumn, measures: Measures) -> str:
    return _speakers_cell(measures) if col.measure == "speakers_match" else _fmt(measures.get(col.measure), col.fmt)


# Numbers and header words are never cut: on a narrow terminal headers wrap and file names fold.
NUMBER_WIDTH = 5  # "0.123"
FILE_MIN_WIDTH = 10


def _file_column(table) -> None:
    table.add_column("file", overflow="fold", min_width=FILE_MIN_WIDTH)


def _number_column(table, header: str) -> None:
    table.add_column(header, justify="right", width=max(NUMBER_WIDTH, *(len(w) for w in header.split())))


def segmentation_table(result: dict, columns: tuple[str, ...] = TABLE_COLUMNS):
    """One row per scored recording, then the means."""
    from rich.table import Table

    table = Table(title="segmentation vs truth")
    _file_column(table)
    table.add_column("status")
    for c in columns:
        _number_column(table, _header(c))
    for r in result["recordings"]:
        table.add_row(r["file"], r["status"], *(_fmt(r["measures"].get(c)) for c in columns))
    table.add_row("[bold]mean", "", *(f"[bold]{_fmt(result['mean'].get(c))}" for c in columns))
    if result["unmatched_truth"]:
        table.caption = f"no output for: {', '.join(result['unmatched_truth'])}"
    return table


def annotation_table(result: dict, columns: tuple[AnnotationColumn, ...] = ANNOTATION_COLUMNS):
    """One row per scored recording, then the corpus figures (`totals`)."""
    from rich.table import Table

    table = Table(title="annotations vs truth",
                  caption="corpus: WER and recall from summed counts, errors as pooled medians, speakers as share matched")
    _file_column(table)
    for c in columns:
        _number_column(table, c.header)
    for r in result["recordings"]:
        table.add_row(r["file"], *(_annotation_cell(c, r["measures"]) for c in columns))
    totals = result.get("totals", {})
    table.add_row("[bold]corpus", *(f"[bold]{_fmt(totals.get(c.measure), c.fmt)}" for c in columns))
    return table


def render_table(result: dict, columns: tuple[str, ...] = TABLE_COLUMNS):
    """What a person reads: the segmentation table and the annotation table, as one rich renderable."""
    from rich.console import Group

    return Group(segmentation_table(result, columns), annotation_table(result))
