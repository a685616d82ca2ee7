"""Tempo of the corpus's music pieces alone and under speech, for each beat tracker setting.

    python bench/tempo_under_speech.py [--beatnet-model 1] [--json out.json]

Every truth music event with a tempo (s03's piano, s16's three pieces) is cut out and mixed with corpus
speech (s07's voices, looped) at speech-to-music levels of none, 0, +6 and +12 dB, then measured by the
music annotator with `beat_tracker` onset, beatnet and agreement. Per setting: tempos within 4 % of the
truth, tempos stated but wrong, and none stated ("tempo unknown").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from single_thread import CORPUS, REPO  # noqa: F401  (first: threads are set before numpy loads)

import numpy as np  # noqa: E402
SR = 16000
LEVELS_DB = (None, 0.0, 6.0, 12.0)
SETTINGS = ("onset", "beatnet", "agreement")
SPEECH = ("s07_events_over_speech", ((1.0, 30.9), (31.9, 51.0)))


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a.astype(np.float64) ** 2)) + 1e-12)


def pieces() -> list[tuple[str, float, np.ndarray]]:
    import soundfile as sf

    from annotators.music.metrics import truth_music_events

    out = []
    for line in (CORPUS / "truth.jsonl").read_text().splitlines():
        rec = json.loads(line)
        x, sr = sf.read(str(CORPUS / rec["file"]), dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        for ev in truth_music_events(rec):
            if ev.tempo_bpm:
                out.append((rec["scene"], ev.tempo_bpm, x[int(ev.start_s * sr): int(ev.end_s * sr)]))
    return out


def speech() -> np.ndarray:
    import soundfile as sf

    x, sr = sf.read(str(CORPUS / "scenes" / f"{SPEECH[0]}.wav"), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return np.concatenate([x[int(a * sr): int(b * sr)] for a, b in SPEECH[1]])


def mix(music: np.ndarray, voice: np.ndarray, level_db: float | None) -> np.ndarray:
    if level_db is None:
        return music
    v = np.resize(voice, len(music))
    y = music + v * (_rms(music) / _rms(v)) * 10 ** (level_db / 20)
    return (y / max(1.0, float(np.abs(y).max()))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beatnet-model", default="1", help="BeatNet weights: 1, 2, 3 or a path")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from annotators.base import SegmentAudio
    from annotators.music.annotator import MusicAnnotator, MusicParams

    annotators = {s: MusicAnnotator(MusicParams(beat_tracker=s, beatnet_model=args.beatnet_model)) for s in SETTINGS}
    voice = speech()
    rows = []
    for level in LEVELS_DB:
        for scene, bpm, music in pieces():
            y = mix(music, voice, level)
            seg = SegmentAudio(scene, f"{scene}:{bpm}", 0.0, len(y) / SR, y)
            got = {s: (None if (t := a.annotate([seg])[0].tempo_bpm) is None else round(float(t), 2))
                   for s, a in annotators.items()}
            rows.append({"level_db": level, "scene": scene, "truth_bpm": bpm, **got})
            print(f"speech {'none' if level is None else f'{level:+.0f} dB':>7}  {scene:18s} truth {bpm:5.1f}  "
                  + "  ".join(f"{s} {'-' if v is None else f'{v:.1f}'}" for s, v in got.items()))
    summary = {}
    for s in SETTINGS:
        right = int(sum(r[s] is not None and abs(r[s] - r["truth_bpm"]) <= 0.04 * r["truth_bpm"] for r in rows))
        stated = int(sum(r[s] is not None for r in rows))
        summary[s] = {"within_4pct": right, "wrong": stated - right, "unknown": len(rows) - stated, "n": len(rows)}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
