"""Pipeline throughput, overhead and speed-up over the naive loop, on copies of the corpus scenes.

    python bench/bench_pipeline.py [--copies 2] [--no-speech] [--naive-threads 2] [--json out.json]

Runs `moss-annotate run` (real Ray, real models) on SCENES x copies, reads OUT/run.json, then runs
bench/naive_loop.py on the same files with the same config. Reports:
  throughput  seconds of audio per wall second of the pipeline run
  overhead    wall / (time inside model calls): per branch model_s summed, with and without decode+segment
  speed-up    naive wall / pipeline wall (both include loading the models once)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import set_dotted  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
SCENES = ("s03_piano_120bpm", "s05_sound_events", "s07_events_over_speech", "s16_podcast_long")
log = logging.getLogger("bench_pipeline")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def make_inputs(dst: Path, copies: int, corpus: Path = CORPUS) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for scene in SCENES:
        for i in range(copies):
            shutil.copyfile(corpus / "scenes" / f"{scene}.wav", dst / f"{scene}_c{i:02d}.wav")
    return dst


def write_bench_config(dst: Path, inputs: Path, out: Path, no_speech: bool, extra: dict | None = None) -> Path:
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(inputs)
    data["output"]["path"] = str(out)
    if no_speech:
        data["branches"]["speech"]["enabled"] = False
    set_dotted(data, extra or {})
    path = dst / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_pipeline(cfg: Path, out: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(cfg), "--overwrite"], cwd=REPO, capture_output=True, text=True)
    process_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline run failed:\n{proc.stderr[-4000:]}")
    stats = json.loads((out / "run.json").read_text())["stats"]
    return {**stats, "process_s": process_s}


def run_naive(cfg: Path, inputs: Path, threads: int, dst: Path) -> dict:
    out = dst / "naive.json"
    cmd = [sys.executable, str(REPO / "bench" / "naive_loop.py"), str(cfg), "--input", str(inputs), "--threads", str(threads), "--json", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"naive loop failed:\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


def summarize(pipe: dict, naive: dict | None) -> dict:
    model_s = sum(pipe["model_s"].values())
    work_s = model_s + pipe["decode_s"] + pipe["segment_s"]
    steady_s = pipe["wall_s"] - pipe.get("startup_s", 0.0)
    out = {
        "audio_s": pipe["audio_s"],
        "pipeline_wall_s": pipe["wall_s"],
        "pipeline_startup_s": pipe.get("startup_s"),
        "throughput_audio_s_per_s": pipe["audio_s"] / pipe["wall_s"],
        "model_s": pipe["model_s"],
        "decode_s": pipe["decode_s"],
        "segment_s": pipe["segment_s"],
        "overhead_wall_over_model": pipe["wall_s"] / model_s if model_s else None,
        "overhead_wall_over_work": pipe["wall_s"] / work_s if work_s else None,
        "overhead_steady_over_work": steady_s / work_s if work_s else None,
    }
    if naive:
        naive_model = sum(naive["model_s"].values())
        out |= {
            "naive_wall_s": naive["wall_s"],
            "naive_load_s": naive["load_s"],
            "naive_model_s": naive["model_s"],
            "naive_work_s": naive_model + naive["decode_s"] + naive["segment_s"] + naive["merge_s"],
            "speedup_vs_naive": naive["wall_s"] / pipe["wall_s"],
            "speedup_vs_naive_without_loading": naive["loop_s"] / steady_s if steady_s > 0 else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--no-speech", action="store_true", help="disable the speech branch (Whisper)")
    parser.add_argument("--naive-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=YAML", help="config change, e.g. branches.sound.batch_size=32")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    extra = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        tmp = Path(tmp)
        inputs = make_inputs(tmp / "in", args.copies)
        cfg = write_bench_config(tmp, inputs, tmp / "out", args.no_speech, extra)
        load_before = load_average()
        pipe = run_pipeline(cfg, tmp / "out")
        naive = None if args.skip_naive else run_naive(cfg, inputs, args.naive_threads, tmp)
        load_after = load_average()
    result = {
        "files": len(SCENES) * args.copies,
        "copies": args.copies,
        "speech": not args.no_speech,
        "config_changes": extra,
        "naive_threads": args.naive_threads,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        **summarize(pipe, naive),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
