"""Crash and resume: SIGKILL the whole run (driver, Ray, workers) in the middle, run the same command again,
and get exactly the tables of an uninterrupted run — no lost row, no duplicate, no visible temp file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.summary import read_table
from schemas import TABLES
from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, cli, snapshot, write_config
from tests.fault_annotators import write_clip

pytestmark = pytest.mark.slow
CLIPS = [  # (scene, start_s, end_s): short pieces of every kind, one shard each
    ("s03_piano_120bpm", 2.0, 12.0),
    ("s05_sound_events", 0.0, 10.0),
    ("s05_sound_events", 20.0, 30.0),
    ("s07_events_over_speech", 30.0, 40.0),
    ("s16_podcast_long", 0.0, 10.0),
    ("s16_podcast_long", 100.0, 110.0),
]
KEYS = {  # the columns that identify a row of each table
    "recordings": ["recording_id"],
    "segments": ["segment_id"],
    "speech": ["segment_id"],
    "music": ["segment_id"],
    "sound": ["segment_id"],
    "captions": ["recording_id"],
    "errors": ["recording_id", "stage", "segment_id"],
}
POLL_S = 0.05
FLOAT_DECIMALS = 4
EXIT_GRACE_S = 20.0  # Ray's own processes notice the dead driver and exit within seconds


def _session_processes(sid: int) -> list[tuple[int, str]]:
    """(pid, command) of every live process in session `sid` (the killed run started its own session)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            fields = text[text.rindex(")") + 2 :].split()
            state, session = fields[0], int(fields[3])
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if session == sid and state != "Z":
            found.append((int(stat.parent.name), cmd))
    return found


def _kill_session(sid: int) -> list[tuple[int, str]]:
    """Kill what is left of the session; returns what was still alive after the grace period."""
    deadline = time.monotonic() + EXIT_GRACE_S
    while (left := _session_processes(sid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def _hidden_temp_files(out: Path) -> list[Path]:
    return sorted(out.rglob(".*.tmp"))


def _canonical(value):
    """Rows compare equal up to float noise (floats rounded), whatever their nesting."""
    if isinstance(value, float):
        return round(value, FLOAT_DECIMALS)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _rows(out: Path, table: str) -> list[dict]:
    rows = [_canonical(r) for r in read_table(out, table).to_pylist()]
    return sorted(rows, key=repr)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, corpus_dir) -> Path:
    d = tmp_path_factory.mktemp("resume_in")
    for i, (scene, a, b) in enumerate(CLIPS):
        write_clip(corpus_dir / "scenes" / f"{scene}.wav", d / f"{i:02d}_{scene}.wav", a, b)
    return d


def _config(tmp: Path, inputs: Path, out: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    changes = {"input.path": str(inputs), "output.path": str(out), "output.shard_size": 1, "branches.speech.enabled": False}
    return write_config(tmp, **changes)


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, inputs):
    out = tmp_path / "resumed"
    cfg = _config(tmp_path / "a", inputs, out)
    log = tmp_path / "killed-run.log"
    runs_dir = tmp_path / "runs"  # where the killed run's watchdog keeps its record
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run", str(cfg)],
            cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MOSS_ANNOTATE_RUNS_DIR": str(runs_dir)},
        )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not (out / "_done").is_dir() or not any((out / "_done").iterdir()):
            assert proc.poll() is None, f"the run ended before its first shard was written:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline
            time.sleep(POLL_S)
        os.kill(proc.pid, signal.SIGKILL)  # the driver alone: Ray's processes must not outlive it
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        stray = _kill_session(proc.pid)
    assert not stray, f"processes of the killed run outlived it: {stray}"
    records = lambda: list((runs_dir / "moss-annotate-runs").glob("run-*.json"))  # noqa: E731
    deadline = time.monotonic() + EXIT_GRACE_S
    while records() and time.monotonic() < deadline:  # the watchdog removes its record last
        time.sleep(POLL_S)
    assert not records(), "the watchdog did not finish"
    assert "Token authentication" not in log.read_text()
    done_before = sorted(p.name for p in (out / "_done").iterdir())
    assert 1 <= len(done_before) < len(CLIPS), "the kill did not land in the middle of the run"
    kept = {k: v for k, v in snapshot(out).items() if any(k.endswith(f"{s}.parquet") or k.endswith(f"_done/{s}") for s in done_before)}

    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    after = snapshot(out)
    assert {k: after[k] for k in kept} == kept, "a shard finished before the kill was written again"
    assert not _hidden_temp_files(out)

    fresh = tmp_path / "fresh"
    result = cli("run", str(_config(tmp_path / "b", inputs, fresh)))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert sorted(p.name for p in (out / "_done").iterdir()) == sorted(p.name for p in (fresh / "_done").iterdir())
    for table in TABLES:
        resumed, clean = _rows(out, table), _rows(fresh, table)
        if table in KEYS:
            keys = [tuple(r[k] for k in KEYS[table]) for r in resumed]
            assert len(keys) == len(set(keys)), f"{table}: duplicate rows"
        assert resumed == clean, table
