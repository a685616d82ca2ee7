"""Realtime factor of the Whisper ASR stage: batched vs one segment at a time, on the corpus speech.

Segments are the `speech` events of truth.jsonl (scenes/*.wav). RTF = processing seconds / audio
seconds (lower is faster). Usage:
    python bench/bench_asr.py [--model pkg:whisper-base] [--beam-size 1] [--batch-size 8] [--threads 1]
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


def corpus_speech(corpus: Path, limit: int | None) -> list[tuple[np.ndarray, str]]:
    import soundfile as sf

    out = []
    for line in (corpus / "truth.jsonl").read_text().splitlines():
        rec = json.loads(line)
        audio, sr = sf.read(str(corpus / rec["file"]), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        for e in rec["events"]:
            if e["kind"] == "speech":
                out.append((audio[int(e["start"] * sr) : int(e["end"] * sr)], e.get("text_norm") or e["text"]))
    return out[:limit] if limit else out


def run(adapter, audios: list[np.ndarray], batched: bool) -> tuple[float, list]:
    tic = time.perf_counter()
    results = transcribe_audios(adapter, audios) if batched else [transcribe_audios(adapter, [a])[0] for a in audios]
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
    parser.add_argument("--model", default="pkg:whisper-base")
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="first N speech events only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import torch

    from annotators.speech.asr import transcribe_audios
    from annotators.speech.whisper_adapter import OpenAIWhisperAdapter, WhisperDecodeConfig
    from annotators.speech.whisper_loader import load_whisper

    torch.set_num_threads(args.threads)
    data = corpus_speech(CORPUS, args.limit)
    audios, refs = [a for a, _ in data], [t for _, t in data]
    seconds = sum(len(a) for a in audios) / 16000
    tic = time.perf_counter()
    model = load_whisper(args.model, args.device)
    load_s = time.perf_counter() - tic
    config = WhisperDecodeConfig(beam_size=args.beam_size, batch_size=args.batch_size)
    adapter = OpenAIWhisperAdapter(model, args.model, config)
    transcribe_audios(adapter, [audios[0]])  # warm-up: numba JIT of the DTW, allocator

    rows = []
    for name, batched in (("one at a time", False), (f"batched ({args.batch_size})", True)):
        elapsed, results = run(adapter, audios, batched)
        rows.append((name, elapsed, elapsed / seconds, wer(refs, [r.text for r in results])))

    print(f"\nmodel {args.model}  beam {args.beam_size}  device {args.device}  torch threads {args.threads}  "
          f"cpu {platform.processor() or platform.machine()} x{os.cpu_count()}  load {load_s:.1f}s")
    print(f"{len(audios)} speech segments, {seconds:.1f} s of audio\n")
    print(f"| mode | seconds | RTF | x realtime | WER |\n|---|---|---|---|---|")
    for name, elapsed, rtf, err in rows:
        print(f"| {name} | {elapsed:.1f} | {rtf:.3f} | {1 / rtf:.1f} | {err:.1%} |")


if __name__ == "__main__":
    main()
