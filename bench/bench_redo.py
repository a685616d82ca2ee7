"""Change one branch, redo only that branch: the first run against the redo, on the same output.

    python bench/bench_redo.py [--inputs examples|corpus] [--set KEY=YAML ...] [--json out.json]

Runs `moss-annotate run` with the repository's pipeline.yaml (every branch) into a fresh output, then again
with one change (default: `branches.music.params.max_instruments: 1`), as a user does: fresh processes,
Ray start-up and model loads included. Prints both wall times, their ratio, the plan the redo printed and
which tables it rewrote (by mtime). `--inputs corpus` uses the four corpus scenes (~4.7 min of audio)
instead of the bundled example (~1 min), where Ray's fixed start/stop costs weigh less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import SCENES, load_average  # noqa: E402
from pipeline.config import set_dotted  # noqa: E402
from schemas import TABLES  # noqa: E402

CORPUS = Path(os.environ.get("MOSS_CORPUS", REPO.parent / "shared" / "corpus"))
DEFAULT_CHANGE = {"branches.music.params.max_instruments": 1}


def _config(tmp: Path, name: str, inputs: Path, out: Path, changes: dict) -> Path:
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(inputs)
    data["output"]["path"] = str(out)
    set_dotted(data, changes)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(cfg: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([str(REPO / ".venv" / "bin" / "moss-annotate"), "run", str(cfg)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return wall, done.stderr


def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for t in TABLES for p in (out / t).glob("*.parquet")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", choices=("examples", "corpus"), default="examples")
    ap.add_argument("--set", action="append", default=[], help="KEY=YAML change for the redo")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    changes = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)} or DEFAULT_CHANGE
    with tempfile.TemporaryDirectory(prefix="bench-redo-") as tmp_s:
        tmp = Path(tmp_s)
        if args.inputs == "corpus":
            inputs = tmp / "in"
            inputs.mkdir()
            for scene in SCENES:
                (inputs / f"{scene}.wav").symlink_to(CORPUS / "scenes" / f"{scene}.wav")
        else:
            inputs = REPO / "examples" / "audio"
        out = tmp / "out"
        load_before = load_average()
        first, _ = _run(_config(tmp, "first", inputs, out, {}))
        before = _mtimes(out)
        redo, log = _run(_config(tmp, "redo", inputs, out, changes))
        after = _mtimes(out)
        rewritten = sorted({k.split("/")[0] for k in after if after[k] != before.get(k)})
        plan = [line.split("plan: ", 1)[1].strip() for line in log.splitlines() if "plan: " in line]
        result = {
            "inputs": args.inputs, "change": changes, "first_wall_s": round(first, 2), "redo_wall_s": round(redo, 2),
            "ratio": round(redo / first, 3), "plan": plan, "tables_rewritten": rewritten,
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs", "load_average": load_before,
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
