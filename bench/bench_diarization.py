"""Diarization cost on CPU with one thread over the corpus scenes: the segmentation-model pass alone and the
whole diarization (segmentation + GE2E embeddings + clustering), as realtime factor and s per audio hour.
The segmentation pass is timed batched (params.batch_size chunks per forward) and one chunk at a time.

    python bench/bench_diarization.py [--corpus ../shared/corpus] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SECONDS_PER_HOUR = 3600.0


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import soundfile as sf
    import torch

    from annotators.speech.diarization import SpeakerDiarizer

    torch.set_num_threads(args.threads)
    diarizer = SpeakerDiarizer()
    t0 = time.perf_counter()
    diarizer.setup()
    setup_s = time.perf_counter() - t0
    p = diarizer.params
    seg_model = diarizer._segmentation
    rows, total_audio, total_seg, total_seg1, total_all = [], 0.0, 0.0, 0.0, 0.0
    for path in sorted((args.corpus / "scenes").glob("*.wav")):
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1).astype(np.float32)
        duration = len(audio) / sr
        seg_s = best_of(args.repeats, lambda: seg_model.local_activity(audio, p.step_s, p.batch_size))
        seg1_s = best_of(args.repeats, lambda: seg_model.local_activity(audio, p.step_s, 1))
        all_s = best_of(args.repeats, lambda: diarizer.diarize(audio, sr))
        speakers = len({t.speaker for t in diarizer.diarize(audio, sr)})
        rows.append((path.stem, duration, seg_s, seg1_s, all_s, speakers))
        total_audio, total_seg, total_all = total_audio + duration, total_seg + seg_s, total_all + all_s
        total_seg1 += seg1_s

    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, torch {torch.__version__}, "
          f"threads={args.threads}; model setup {setup_s:.1f} s (once per process)")
    print(f"params: step_s={p.step_s}, batch_size={p.batch_size}; best of {args.repeats}")
    print(f"{'scene':28s} {'audio s':>8s} {'seg s':>7s} {'seg@1 s':>8s} {'total s':>8s} {'RTF':>7s} {'speakers':>8s}")
    for name, dur, seg_s, seg1_s, all_s, n in rows:
        print(f"{name:28s} {dur:8.1f} {seg_s:7.2f} {seg1_s:8.2f} {all_s:8.2f} {all_s / dur:7.4f} {n:8d}")
    print(f"all scenes: segmentation pass {total_seg / total_audio * SECONDS_PER_HOUR:.0f} s per audio hour batched, "
          f"{total_seg1 / total_audio * SECONDS_PER_HOUR:.0f} s one chunk at a time (RTF {total_seg / total_audio:.4f} vs "
          f"{total_seg1 / total_audio:.4f}); "
          f"full diarization {total_all / total_audio * SECONDS_PER_HOUR:.0f} s per audio hour "
          f"(RTF {total_all / total_audio:.4f}) on one CPU thread")


if __name__ == "__main__":
    main()
