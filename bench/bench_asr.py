"""Realtime factor of the Whisper ASR stage: batched vs one segment at a time, on the corpus speech.

Segments are the `speech` events of truth.jsonl (scenes/*.wav). RTF = processing seconds / audio
seconds (lower is faster). Modes: one segment per call; all in one call, each segment its own windows;
packed (the segments of each scene share 30 s windows, as the pipeline does). Usage:
    python bench/bench_asr.py [--engine ctranslate2|openai-whisper] [--model pkg:whisper-base] [--beam-size 5]
                              [--batch-size 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MOSS_CORPUS", REPO.parent / "shared" / "corpus"))
log = logging.getLogger("bench_asr")


def corpus_speech(corpus: Path, limit: int | None):
    """SegmentAudio of every truth speech event (recording = scene), with its reference text."""
    import soundfile as sf

    from annotators.base import SegmentAudio

    out = []
    for line in (corpus / "truth.jsonl").read_text().splitlines():
        rec = json.loads(line)
        audio, sr = sf.read(str(corpus / rec["file"]), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        for e in rec["events"]:
            if e["kind"] == "speech":
                a, b = int(e["start"] * sr), int(e["end"] * sr)
                seg = SegmentAudio(rec["scene"], f"{rec['scene']}:{a}", e["start"], e["end"], audio[a:b], sr,
                                   context_before=audio[max(0, a - sr // 2) : a], context_after=audio[b : b + sr // 2])
                out.append((seg, e.get("text_norm") or e["text"]))
    return out[:limit] if limit else out


def run(adapter, segs: list, mode: str) -> tuple[float, list]:
    from annotators.speech.transcribe import transcribe_audios, transcribe_segments

    audios = [s.samples for s in segs]
    tic = time.perf_counter()
    if mode == "one":
        results = [transcribe_audios(adapter, [a])[0] for a in audios]
    elif mode == "batched":
        results = transcribe_audios(adapter, audios)
    else:
        results = transcribe_segments(adapter, segs, audios)
    return time.perf_counter() - tic, results


def wer(refs: list[str], hyps: list[str]) -> float:
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    errors = words = 0
    for ref, hyp in zip(refs, hyps):
        r, h = norm(ref).split(), norm(hyp).split()
        d = np.arange(len(h) + 1)
        for i in range(1, len(r) + 1):
            prev, d[0] = d.copy(), i
            for j in range(1, len(h) + 1):
                d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        errors, words = errors + d[-1], words + len(r)
    return errors / max(words, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="ctranslate2", choices=("ctranslate2", "openai-whisper"))
    parser.add_argument("--model", default="pkg:whisper-base")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="first N speech events only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import torch

    from annotators.speech.asr import load_adapter
    from annotators.speech.transcribe import transcribe_audios
    from annotators.speech.whisper_adapter import WhisperDecodeConfig

    torch.set_num_threads(args.threads)
    data = corpus_speech(CORPUS, args.limit)
    segs, refs = [s for s, _ in data], [t for _, t in data]
    seconds = sum(len(s.samples) for s in segs) / 16000
    tic = time.perf_counter()
    config = WhisperDecodeConfig(beam_size=args.beam_size, batch_size=args.batch_size)
    adapter = load_adapter(args.engine, args.model, args.device, config)
    load_s = time.perf_counter() - tic
    transcribe_audios(adapter, [segs[0].samples])  # warm-up: numba JIT of the DTW, allocator

    rows = []
    for name, mode in (("one at a time", "one"), (f"batched ({args.batch_size})", "batched"), ("packed, batched", "packed")):
        elapsed, results = run(adapter, segs, mode)
        rows.append((name, elapsed, elapsed / seconds, wer(refs, [r.text for r in results])))

    print(f"\nengine {args.engine}  model {args.model}  beam {args.beam_size}  device {args.device}  threads {args.threads}  "
          f"cpu {platform.processor() or platform.machine()} x{os.cpu_count()}  load {load_s:.1f}s")
    print(f"{len(segs)} speech segments, {seconds:.1f} s of audio\n")
    print("| mode | seconds | RTF | x realtime | WER |\n|---|---|---|---|---|")
    for name, elapsed, rtf, err in rows:
        print(f"| {name} | {elapsed:.1f} | {rtf:.3f} | {1 / rtf:.1f} | {err:.1%} |")


if __name__ == "__main__":
    main()
