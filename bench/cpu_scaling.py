"""How much a second CPU thread or process really adds on this machine (context for every CPU benchmark).

    python bench/cpu_scaling.py [--whisper]

Times the same work on 1 thread, on 2 threads, and in 2 processes of 1 thread at once: float32 matrix products
(Whisper-base-sized: 1500x512 @ 512x2048), and with --whisper the packaged Whisper-base encoder on 30 s
windows plus greedy decoding (the speech branch's hot loop). With 2 independent cores, 2 threads or 2
processes do about twice the work per second; where the cores share memory bandwidth or cache, less.
"""

from __future__ import annotations

import multiprocessing as mp
import time

N_PRODUCTS = 400
N_WINDOWS = 6


def whisper_work(threads: int) -> float:
    import sys
    from pathlib import Path

    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from annotators.speech.transcribe import transcribe_audios
    from annotators.speech.whisper_adapter import OpenAIWhisperAdapter, WhisperDecodeConfig
    from annotators.speech.whisper_loader import load_whisper

    torch.set_num_threads(threads)
    adapter = OpenAIWhisperAdapter(load_whisper("pkg:whisper-base", "cpu"), "pkg:whisper-base", WhisperDecodeConfig(word_timestamps=False))
    rng = np.random.default_rng(0)
    audio = (0.05 * rng.standard_normal(16000 * 5)).astype(np.float32)
    transcribe_audios(adapter, [audio])
    t0 = time.perf_counter()
    transcribe_audios(adapter, [audio] * N_WINDOWS)
    return time.perf_counter() - t0


def work(threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(1500, 512), torch.randn(512, 2048)
    for _ in range(20):
        a @ b
    t0 = time.perf_counter()
    for _ in range(N_PRODUCTS):
        a @ b
    return time.perf_counter() - t0


def measure(fn, what: str) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:  # a fresh process each, like the pipeline's actors
        one = pool.apply(fn, (1,))
        two_threads = pool.apply(fn, (2,))
    with ctx.Pool(2) as pool:
        both = pool.map(fn, [1, 1])  # each times its own work, after its own setup
    print(f"{what}: 1 thread {one:.2f} s; 2 threads {two_threads:.2f} s (x{one / two_threads:.2f}); "
          f"2 processes at once {max(both):.2f} s each (work per second x{2 * one / max(both):.2f})")


def main() -> None:
    import sys

    measure(work, f"{N_PRODUCTS} matrix products")
    if "--whisper" in sys.argv:
        measure(whisper_work, f"whisper-base, {N_WINDOWS} windows batched")


if __name__ == "__main__":
    main()
