"""Peak memory of a whole pipeline run (driver + Ray + workers) for many short files and for long files.

    python bench/bench_memory.py short --files 100 2000      # 2-5 s slices of the corpus scenes
    python bench/bench_memory.py long [--hours 2]            # the 20-min corpus file and a generated long file

Memory is sampled every SAMPLE_S over every process of the run (it runs in its own session): the sum of
PSS (proportional set size: shared pages such as Ray's object store are split between the processes that
map them, so nothing is counted twice) and, for reference, the sum of RSS. Uses psutil if installed, else
/proc. Cheap branches (music + sound; speech off) unless --speech.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import CORPUS, SCENES, load_average, write_bench_config  # noqa: E402

log = logging.getLogger("bench_memory")
SAMPLE_S = 0.25
RATE = 16000
SHORT_MIN_S, SHORT_MAX_S = 2.0, 5.0
LONG_FILE = "bad_inputs/long_20min_8khz.wav"
KIB = 1024
MIB = 1024 * 1024


# ---- memory of a process session --------------------------------------------------------------------


def _session_pids(sid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if int(text[text.rindex(")") + 2 :].split()[3]) == sid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def _pss_rss_bytes(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process; (0, 0) if it is gone."""
    try:
        import psutil

        info = psutil.Process(pid).memory_full_info()
        return info.pss, info.rss
    except ImportError:
        pass
    except Exception:
        return 0, 0
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        return int(fields["Pss"].split()[0]) * KIB, int(fields["Rss"].split()[0]) * KIB
    except (OSError, KeyError, ValueError):
        return 0, 0


@dataclass
class MemoryPeak:
    pss_bytes: int = 0
    rss_bytes: int = 0
    processes: int = 0
    samples: int = 0
    by_process: dict[str, float] = field(default_factory=dict)  # MiB of PSS per process name at the PSS peak


def _name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in cmd if w]
    if not words:
        return "?"
    if words[0].startswith("ray::"):
        return words[0]
    if "-m" in words:
        return words[words.index("-m") + 1]
    return Path(words[1] if Path(words[0]).name.startswith("python") and len(words) > 1 else words[0]).name


class SessionSampler(threading.Thread):
    """Samples the summed memory of every process in session `sid` until stopped; keeps the peaks."""

    def __init__(self, sid: int) -> None:
        super().__init__(daemon=True)
        self.sid, self.peak, self._halt = sid, MemoryPeak(), threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = _session_pids(self.sid)
            mem = {p: _pss_rss_bytes(p) for p in pids}
            pss, rss = sum(v[0] for v in mem.values()), sum(v[1] for v in mem.values())
            if pss > self.peak.pss_bytes:
                by_name: dict[str, float] = {}
                for p, (p_pss, _) in mem.items():
                    key = f"{_name(p)}"
                    by_name[key] = round(by_name.get(key, 0.0) + p_pss / MIB, 1)
                self.peak.by_process = dict(sorted(by_name.items(), key=lambda kv: -kv[1]))
            self.peak.pss_bytes = max(self.peak.pss_bytes, pss)
            self.peak.rss_bytes = max(self.peak.rss_bytes, rss)
            self.peak.processes = max(self.peak.processes, len(pids))
            self.peak.samples += 1
            self._halt.wait(SAMPLE_S)

    def stop(self) -> MemoryPeak:
        self._halt.set()
        self.join()
        return self.peak


def measured_run(cfg: Path, out: Path) -> dict:
    """One CLI run in its own session, with its memory sampled; returns peaks, wall time and run stats."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", str(cfg), "--overwrite"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    sampler = SessionSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    peak = sampler.stop()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"run failed:\n{err[-4000:]}")
    stats = json.loads((out / "run.json").read_text())["stats"]
    return {
        "peak_pss_mib": round(peak.pss_bytes / MIB, 1),
        "peak_rss_sum_mib": round(peak.rss_bytes / MIB, 1),
        "peak_processes": peak.processes,
        "pss_at_peak_by_process_mib": peak.by_process,
        "process_wall_s": round(wall, 1),
        "run_wall_s": round(stats["wall_s"], 1),
        "audio_s": round(stats["audio_s"], 1),
        "recordings": stats["recordings"],
        "segments": stats["segments"],
        "realtime_factor": round(stats["audio_s"] / stats["wall_s"], 2),
    }


# ---- inputs -----------------------------------------------------------------------------------------


def _scene_audio(corpus: Path) -> list[np.ndarray]:
    import soundfile as sf

    out = []
    for scene in SCENES:
        x, rate = sf.read(str(corpus / "scenes" / f"{scene}.wav"), dtype="int16")
        assert rate == RATE, scene
        out.append(x)
    return out


def make_short_files(dst: Path, n: int, corpus: Path, seed: int = 0) -> Path:
    """n WAVs of 2-5 s cut at random places of the scenes (real audio; content repeats across files)."""
    import soundfile as sf

    dst.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    scenes = _scene_audio(corpus)
    for i in range(n):
        x = scenes[i % len(scenes)]
        length = int(rng.uniform(SHORT_MIN_S, SHORT_MAX_S) * RATE)
        start = int(rng.integers(0, len(x) - length))
        sf.write(str(dst / f"short_{i:05d}.wav"), x[start : start + length], RATE, subtype="PCM_16")
    return dst


def make_long_file(path: Path, hours: float, corpus: Path) -> Path:
    """The scenes looped to `hours`, written block by block (never the whole file in memory)."""
    import soundfile as sf

    scenes = _scene_audio(corpus)
    total = int(hours * 3600 * RATE)
    with sf.SoundFile(str(path), "w", RATE, 1, subtype="PCM_16") as fh:
        written, i = 0, 0
        while written < total:
            x = scenes[i % len(scenes)][: total - written]
            fh.write(x)
            written += len(x)
            i += 1
    return path


# ---- the two experiments ----------------------------------------------------------------------------


def bench_short(counts: list[int], speech: bool, corpus: Path) -> list[dict]:
    results = []
    for n in counts:
        with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
            tmp = Path(tmp)
            inputs = make_short_files(tmp / "in", n, corpus)
            cfg = write_bench_config(tmp, inputs, tmp / "out", no_speech=not speech)
            log.info("short: %d files ...", n)
            results.append({"case": f"{n} short files (2-5 s)", "files": n, "load_average": load_average(), **measured_run(cfg, tmp / "out")})
            log.info("%s", results[-1])
    return results


def bench_long(hours: float, speech: bool, corpus: Path, work: Path) -> list[dict]:
    results = []
    work.mkdir(parents=True, exist_ok=True)
    generated = make_long_file(work / f"long_{hours:g}h_16k.wav", hours, corpus)
    for case, path in (("20-min corpus file (8 kHz)", corpus / LONG_FILE), (f"{hours:g}-hour generated file (16 kHz)", generated)):
        with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
            tmp = Path(tmp)
            (tmp / "in").mkdir()
            (tmp / "in" / path.name).symlink_to(path)
            cfg = write_bench_config(tmp, tmp / "in", tmp / "out", no_speech=not speech)
            log.info("long: %s ...", case)
            results.append({"case": case, "files": 1, "load_average": load_average(), **measured_run(cfg, tmp / "out")})
            log.info("%s", results[-1])
    generated.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    short = sub.add_parser("short")
    short.add_argument("--files", type=int, nargs="+", default=[100, 2000])
    long = sub.add_parser("long")
    long.add_argument("--hours", type=float, default=2.0)
    long.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "moss-bench-long")
    for p in (short, long):
        p.add_argument("--speech", action="store_true", help="also run Whisper (slow on CPU)")
        p.add_argument("--corpus", type=Path, default=CORPUS)
        p.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.mode == "short":
        results = bench_short(args.files, args.speech, args.corpus)
    else:
        results = bench_long(args.hours, args.speech, args.corpus, args.work)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
