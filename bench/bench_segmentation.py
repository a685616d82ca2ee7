"""Segmentation cost per hour of audio on one CPU core, per evidence source.

    python bench/bench_segmentation.py [--corpus ../shared/corpus] [--no-diarize] [--json]

Runs every source of the event segmenter separately (silero-vad, YAMNet class profile, librosa acoustic
change, diarization of the speech regions, fusion + length rules) over the corpus scenes and the 20-minute
sparse recording, with torch and ONNX Runtime on one thread, and reports CPU seconds per hour of audio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

FILES = ("scenes/s03_piano_120bpm.wav", "scenes/s05_sound_events.wav", "scenes/s07_events_over_speech.wav",
         "scenes/s16_podcast_long.wav", "bad_inputs/long_20min_8khz.wav")
RATE = 16000


def load(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return (soxr.resample(x, sr, RATE) if sr != RATE else x).astype(np.float32)


def timed(fn, *args, **kwargs):
    """Result and CPU seconds of this process (one thread everywhere, so CPU time is one core's time and
    stays honest on a busy machine, where wall time would count other jobs' turns)."""
    t = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t


def bench_file(x: np.ndarray, seg, diarize: bool) -> dict[str, float]:
    from segmenters.acoustic import acoustic_evidence
    from segmenters.class_profile import class_profile
    from segmenters.energy import frame_db
    from segmenters.evidence import Evidence, active_spans
    from segmenters.speaker_change import diarize_speech_only
    from segmenters.vad import regions_from_frames, speech_frames

    p = seg.params
    duration = len(x) / RATE
    (frames, t_vad) = timed(speech_frames, x, RATE, p.vad.backend)
    regions, t_regions = timed(regions_from_frames, frames, duration, p.vad)
    acoustic, t_librosa = timed(acoustic_evidence, x, RATE, p.acoustic)
    spans = None if p.tag_quiet else active_spans(acoustic, p.fusion.activity) + list(regions)
    profile, t_yamnet = timed(class_profile, x, RATE, seg._tagger, p.tagger_hop_s, spans)
    turns, t_diar = [], 0.0
    if diarize and seg._diarizer is not None:
        turns, t_diar = timed(diarize_speech_only, seg._diarizer, x, RATE, regions, None, p.diarize_pad_s)
    ev = Evidence(duration, frame_db(x, RATE, p.acoustic.hop_s), frames, regions, profile, acoustic, turns)
    _, t_fuse = timed(seg.segment_evidence, ev)
    return {"audio_s": duration, "vad": t_vad + t_regions, "class_profile": t_yamnet, "acoustic": t_librosa,
            "diarization": t_diar, "fusion": t_fuse, "speech_s": sum(e - s for s, e in regions)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--no-diarize", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from segmenters.event import EventParams, EventSegmenter

    seg = EventSegmenter(EventParams(diarize=not args.no_diarize))
    seg.setup()
    bench_file(load(args.corpus / FILES[0])[: RATE * 20], seg, not args.no_diarize)  # warm-up (lazy imports, JIT)
    rows = {}
    for name in FILES:
        if (args.corpus / name).is_file():
            rows[Path(name).stem] = bench_file(load(args.corpus / name), seg, not args.no_diarize)
    total = {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values()))}
    per_hour = {k: round(v / total["audio_s"] * 3600, 2) for k, v in total.items() if k not in ("audio_s", "speech_s")}
    per_hour["total"] = round(sum(per_hour.values()), 2)
    result = {"files": rows, "audio_s": round(total["audio_s"], 1), "speech_share": round(total["speech_s"] / total["audio_s"], 3),
              "seconds_per_hour": per_hour}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{total['audio_s']:.0f} s of audio ({result['speech_share']:.0%} speech), one CPU thread")
    for k, v in per_hour.items():
        print(f"  {k:14s} {v:7.2f} s per hour of audio")


if __name__ == "__main__":
    main()
