"""Decode cost per hour of audio (pipeline.audio.decode: any container -> 16 kHz mono float32).

    python bench/bench_decode.py FILE [FILE ...]      # e.g. a long WAV and the same audio as MP3

Best of 2 per file; wall seconds per audio hour and the process's peak RSS after it.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.audio import decode  # noqa: E402


def main() -> None:
    for f in sys.argv[1:]:
        best, audio = float("inf"), None
        for _ in range(2):
            t0 = time.perf_counter()
            audio = decode(f)
            best = min(best, time.perf_counter() - t0)
        hours = audio.duration_s / 3600
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{f}: {audio.duration_s:.1f} s audio, {best:.2f} s ({best / hours:.2f} s per audio hour), peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
