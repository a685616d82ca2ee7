"""Realtime factor of the music and sound branches on CPU, one thread.

    python bench/bench_music_sound.py [--repeat 3] [--write docs/benchmarks_music_sound.md]

Feeds the corpus scenes in <= 30 s segments (as the segmenter would) to each annotator after setup()
(model load and librosa's JIT warm-up are timed separately) and reports seconds of compute per second
of audio (RTF; lower is faster), with a per-stage breakdown for the music branch.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from pathlib import Path

from single_thread import CORPUS, REPO  # noqa: F401  (first: threads are set before numpy loads)

import numpy as np  # noqa: E402
SCENES = ("s03_piano_120bpm", "s05_sound_events", "s07_events_over_speech", "s16_podcast_long")
SEGMENT_S = 30.0
SR = 16000
log = logging.getLogger("bench")


def load_segments():
    import soundfile as sf

    from annotators.base import SegmentAudio

    segs = []
    for name in SCENES:
        x, sr = sf.read(str(CORPUS / "scenes" / f"{name}.wav"), dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        assert sr == SR
        for start in np.arange(0.0, x.size / SR, SEGMENT_S):
            end = min(x.size / SR, start + SEGMENT_S)
            segs.append(SegmentAudio(name, f"{name}:{start:.0f}", float(start), float(end),
                                     x[int(start * SR): int(end * SR)]))
    return segs


def time_annotator(annotator, segs, repeat: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    annotator.setup()
    setup_s = time.perf_counter() - t0
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = annotator.annotate(segs)
        best = min(best, time.perf_counter() - t0)
        assert len(rows) == len(segs)
    return setup_s, best


def music_stages(segs, tagger) -> dict[str, float]:
    """Seconds per stage over all segments (one pass)."""
    from annotators.music import loudness, rhythm, tags, timbre, tonality
    from annotators.music.beatnet import BeatNetTracker

    beatnet = BeatNetTracker()
    stages = {
        "tagger": lambda y: tagger.frame_scores(y, SR, hop_s=0.48),
        "tempo+beats+meter (onset tempogram)": lambda y: rhythm.estimate_rhythm(y, SR),
        "beats+downbeats (BeatNet CRNN + bar tracker)": lambda y: beatnet(y, SR),
        "key": lambda y: tonality.estimate_key(y, SR),
        "loudness": lambda y: loudness.measure_loudness(y, SR),
        "timbre": lambda y: timbre.spectral_centroid_hz(y, SR),
        "tags": lambda y: tags.music_tags(np.zeros((1, len(tagger.class_names)), np.float32), tagger.class_names),
    }
    out = {}
    for name, fn in stages.items():
        t0 = time.perf_counter()
        for s in segs:
            fn(s.samples)
        out[name] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", type=Path, default=None, help="also write a markdown report here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    from annotators.music.annotator import MusicAnnotator
    from annotators.sound.annotator import SoundEventAnnotator

    segs = load_segments()
    audio_s = sum(s.end_s - s.start_s for s in segs)
    results = {}
    for name, ann in (("sound (audioset-events)", SoundEventAnnotator()), ("music", MusicAnnotator())):
        setup_s, run_s = time_annotator(ann, segs, args.repeat)
        results[name] = (setup_s, run_s)
        log.info("%-24s setup %.2f s | %.2f s for %.1f s of audio | RTF %.4f (%.0fx realtime)",
                 name, setup_s, run_s, audio_s, run_s / audio_s, audio_s / run_s)
        if name == "music":
            stages = music_stages(segs, ann._tagger)
            for stage, sec in stages.items():
                log.info("    %-20s RTF %.4f", stage, sec / audio_s)
    if args.write:
        write_report(args.write, results, stages, audio_s, len(segs))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} logical CPUs visible, 1 thread used; Python {platform.python_version()}; "
            f"1-min load average {load:.1f} during the run (a busy shared machine inflates the times)")


def write_report(path: Path, results, stages, audio_s: float, n_segs: int) -> None:
    lines = [
        "# Music and sound branches: speed on CPU",
        "",
        f"Machine: {machine()}.",
        f"Input: the {len(SCENES)} corpus scenes cut into {n_segs} segments of <= {SEGMENT_S:.0f} s "
        f"({audio_s:.1f} s of audio); best of several passes after setup(). "
        "Produced by `python bench/bench_music_sound.py --write docs/benchmarks_music_sound.md`.",
        "",
        "| branch | setup (s) | compute (s) | RTF | x realtime |",
        "|---|---|---|---|---|",
    ]
    for name, (setup_s, run_s) in results.items():
        lines.append(f"| {name} | {setup_s:.2f} | {run_s:.2f} | {run_s / audio_s:.4f} | {audio_s / run_s:.0f} |")
    lines += ["", "Music branch by stage (one pass, RTF):", "", "| stage | RTF |", "|---|---|"]
    lines += [f"| {k} | {v / audio_s:.4f} |" for k, v in stages.items()]
    lines += ["", "Setup of the music branch includes librosa's numba JIT warm-up (paid once per actor).", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    log.info("wrote %s", path)


if __name__ == "__main__":
    main()
