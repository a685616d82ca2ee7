"""Calibrate what the sound branch states: precision and top-3 recall of stated events for a grid of
statement thresholds, on the corpus scenes and on copies at other levels and with added noise.

    python bench/calibrate_sound.py [pipeline.yaml] [--write docs/sound_calibration.md]

Detection runs once per scene and variant (the default segmenter, the sound branch's segments with their
context, the tagger); the statement policy (`annotators/sound/statement.py`) is then applied for every
threshold pair to the same detections. Precision: stated events that overlap a truth sound event and name
it (ancestors count); recall: truth events named among the top 3 labels of the stated events over them.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
from pathlib import Path

from single_thread import CORPUS, REPO  # noqa: F401  (first: threads are set before numpy loads)

import numpy as np  # noqa: E402
SR = 16000
# The packaged int8 YAMNet scores in steps (0.32, 0.50, 0.68, 0.82, 0.91, 0.95, ...): thresholds between them.
LEAF = (0.4, 0.6, 0.75, 0.85, 0.93)
ANCESTOR = (0.4, 0.6, 0.75)
log = logging.getLogger("calibrate_sound")


def variants(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The scene as recorded, 12 dB quieter, 6 dB louder (clipped at full scale) and with pink noise at 15 dB SNR."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(x.size)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(1.0, np.arange(spectrum.size)))
    pink = np.fft.irfft(spectrum, n=x.size)
    signal_rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1e-9
    pink *= signal_rms / (float(np.sqrt(np.mean(pink ** 2))) * 10 ** (15 / 20))
    return {
        "original": x,
        "-12 dB": x * 10 ** (-12 / 20),
        "+6 dB": np.clip(x * 10 ** (6 / 20), -1.0, 1.0),
        "pink noise 15 dB SNR": (x + pink).astype(np.float32),
    }


def detect(cfg, annotator, samples: np.ndarray, rid: str):
    """(event before its statement, Music level over it) for every sound segment of one recording."""
    from pipeline.manifest import InputItem
    from pipeline.stages import PreparedRecording, get_segmenter, segment_audio, work_items
    from schemas.recordings import RecordingRow
    from schemas.segments import SegmentRow

    seg = get_segmenter(cfg.segmentation).segment(samples, SR, None)
    rows = [SegmentRow(rid, f"{rid}:{i}", s.start_s, s.end_s, list(s.branches)) for i, s in enumerate(seg.segments)]
    prepared = PreparedRecording(InputItem(rid, rid), RecordingRow(rid, rid, "ok"), rows, samples=samples)
    return [found for w in work_items(prepared, "sound")
            for found in annotator.detect(segment_audio(w, samples, SR, cfg.audio.segment_context_s))]


def score(detections, truths, leaf: float, ancestor: float, base) -> dict:
    from annotators.sound.events import state_event
    from annotators.sound.metrics import names_truth, score_sound, stated

    scfg = dataclasses.replace(base, leaf_min_score=leaf, ancestor_min_score=ancestor)
    right = n_stated = named = n_truth = backed = 0
    for found, truth in zip(detections, truths, strict=True):
        events = stated(state_event(e, music, scfg) for e, music in found)
        s = score_sound(truth, events)
        right, n_stated = right + s.n_right, n_stated + s.n_stated
        named, n_truth = named + sum(names_truth(t, events) for t in truth), n_truth + len(truth)
        backed += sum(e.label != e.source_label for e in events)
    return {"leaf": leaf, "ancestor": ancestor, "precision": right / n_stated if n_stated else float("nan"),
            "recall": named / n_truth if n_truth else float("nan"), "stated": n_stated, "backed_off": backed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=REPO / "pipeline.yaml")
    parser.add_argument("--json", type=Path, help="write every grid point here")
    parser.add_argument("--conflict-margin", type=float, default=None, help="turn the rival check on (0.1)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import soundfile as sf

    from annotators.sound.metrics import truth_sound_events
    from annotators.sound.statement import StatementConfig
    from pipeline.config import load_config
    from pipeline.stages import make_annotator

    cfg = load_config(args.config)
    annotator = make_annotator(cfg.branches["sound"])
    base = StatementConfig(music_level=annotator.params.music_level,
                           under_music_min_score=annotator.params.under_music_min_score,
                           conflict_margin=args.conflict_margin)
    truth = {json.loads(line)["scene"]: json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()}
    by_variant: dict[str, tuple[list, list]] = {}
    for scene in sorted(truth):
        x, sr = sf.read(str(CORPUS / truth[scene]["file"]), dtype="float32", always_2d=True)
        assert sr == SR
        for name, y in variants(x.mean(axis=1)).items():
            log.info("detecting: %s, %s", scene, name)
            dets, truths = by_variant.setdefault(name, ([], []))
            dets.append(detect(cfg, annotator, y.astype(np.float32), scene))
            truths.append(truth_sound_events(truth[scene]))
    results = {name: [score(d, t, leaf, anc, base) for leaf, anc in itertools.product(LEAF, ANCESTOR)]
               for name, (d, t) in by_variant.items()}
    for name, rows in results.items():
        print(f"\n{name}\n| leaf | ancestor | precision | top-3 recall | stated | backed off |\n|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['leaf']} | {r['ancestor']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['stated']} | {r['backed_off']} |")
    raw = {name: score(d, t, 0.0, 0.0, dataclasses.replace(base, music_level=2.0, conflict_margin=None))
           for name, (d, t) in by_variant.items()}
    print("\nevery detection stated as its tagger class (before this policy):")
    for name, r in raw.items():
        print(f"  {name}: precision {r['precision']:.3f}, top-3 recall {r['recall']:.3f}, {r['stated']} events")
    if args.json:
        args.json.write_text(json.dumps({"grid": results, "unfiltered": raw}, indent=2))


if __name__ == "__main__":
    main()
