"""Helpers for tests that run the whole pipeline through its command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.config import set_dotted

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 900


def write_config(tmp: Path, **changes) -> Path:
    """The repository's pipeline.yaml with dotted-key changes, written next to `tmp` (absolute paths)."""
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(REPO / data["input"]["path"])
    set_dotted(data, changes)
    path = tmp / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def cli(*args: str, env: dict | None = None, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def snapshot(out: Path) -> dict[str, tuple[str, int]]:
    """Every file under out -> (sha256, mtime_ns): equal snapshots mean nothing was rewritten."""
    return {
        str(p.relative_to(out)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def copy_examples(dst: Path, names) -> Path:
    """A fresh input folder holding some of the bundled example files."""
    import shutil

    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(REPO / "examples" / "audio" / name, dst / name)
    return dst


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL a run's driver (alone) if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
