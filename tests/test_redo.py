"""Change one branch, redo only that branch: a real run of the bundled example, then config changes.

A music change redoes music and the merge, reading everything else from disk and leaving those files
byte-for-byte and mtime untouched, in at most half the first run's time, with rows equal to a fresh run of
the new config. A disabled branch then enabled is computed alone; a segmentation change plans everything;
a redo killed half-way resumes to the same tables."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schemas import TABLES
from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, cli, kill_hard, snapshot, write_config
from tests.test_resume import _rows

pytestmark = pytest.mark.slow
MUSIC_CHANGE = {"branches.music.params.max_instruments": 1}
REDO_MAX_SHARE = 0.85  # a regression guard with room for a loaded CI machine; the benchmark measures
POLL_S = 0.05


def _run(tmp: Path, out: Path, **changes) -> tuple[subprocess.CompletedProcess, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = write_config(tmp, **{"output.path": str(out), "output.shard_size": 2, **changes})
    t0 = time.monotonic()
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result, time.monotonic() - t0


def _files(out: Path, *tables: str) -> dict:
    return {k: v for k, v in snapshot(out).items() if k.split("/")[0] in tables}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> tuple[Path, float]:
    tmp = tmp_path_factory.mktemp("first")
    _, wall = _run(tmp, tmp / "out")
    return tmp / "out", wall


@pytest.fixture(scope="module")
def fresh_music_change(tmp_path_factory) -> Path:
    """The new config run from scratch: what the redo must equal."""
    tmp = tmp_path_factory.mktemp("fresh")
    _run(tmp, tmp / "out", **MUSIC_CHANGE)
    return tmp / "out"


def _copy(first_out: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_out, out)  # copy2: mtimes kept, so "untouched" is checked on the copy
    return out


def _same_tables(a: Path, b: Path, tables) -> None:
    for table in tables:
        assert _rows(a, table) == _rows(b, table), table


def test_a_music_change_redoes_music_and_merge_only(first, fresh_music_change, tmp_path):
    first_out, first_wall = first
    out = _copy(first_out, tmp_path)
    kept = _files(out, "recordings", "segments", "speech", "sound")
    redone = _files(out, "music", "captions", "sft")
    result, wall = _run(tmp_path, out, **MUSIC_CHANGE)
    log = " ".join(result.stderr.split())
    assert "plan: music, merge: 2 shard(s) (music changed)" in log, log[-3000:]
    assert "--overwrite" not in log
    assert _files(out, "recordings", "segments", "speech", "sound") == kept  # bytes and mtime
    after = _files(out, "music", "captions", "sft")
    assert set(after) == set(redone) and all(after[k][1] != redone[k][1] for k in redone)
    assert set(json.loads((out / "run.json").read_text())["stats"]["models"]) == {"music"}
    _same_tables(out, fresh_music_change, TABLES)
    # A regression guard, not the benchmark (bench/bench_redo.py, docs/benchmarks.md): a redo of everything
    # costs ~1x. The redo loads one model instead of four and skips segmentation; what is left is Ray's start
    # and stop (~4.5 s) and the music model's import-time JIT (~3 s), which a 1-minute example cannot hide.
    assert wall <= REDO_MAX_SHARE * first_wall, (wall, first_wall)


def test_disabling_then_enabling_a_branch_computes_only_it(first, tmp_path):
    first_out, _ = first
    out = _copy(first_out, tmp_path)
    kept = _files(out, "recordings", "segments", "speech", "music")
    result, _ = _run(tmp_path / "a", out, **{"branches.sound.enabled": False})
    assert "plan: sound, merge: 2 shard(s) (sound disabled)" in " ".join(result.stderr.split())
    assert _rows(out, "sound") == []
    result, _ = _run(tmp_path / "b", out)
    log = " ".join(result.stderr.split())
    assert "plan: sound, merge: 2 shard(s) (sound enabled)" in log
    assert set(json.loads((out / "run.json").read_text())["stats"]["models"]) == {"sound"}  # no other model loaded
    assert _files(out, "recordings", "segments", "speech", "music") == kept
    _same_tables(out, first_out, TABLES)


def test_a_segmentation_change_plans_everything_and_dry_run_changes_nothing(first, tmp_path):
    first_out, _ = first
    out = _copy(first_out, tmp_path)
    before = snapshot(out)
    cfg = write_config(tmp_path, **{"output.path": str(out), "output.shard_size": 2, "audio.max_duration_s": 3600})
    result = cli("run", str(cfg), "--dry-run", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "everything: 2 shard(s) (segmentation changed)" in " ".join(result.stderr.split())
    assert snapshot(out) == before
    same = write_config(tmp_path, **{"output.path": str(out), "output.shard_size": 2})
    assert "up to date: 2 shard(s)" in " ".join(cli("run", str(same), "--dry-run", timeout=120).stderr.split())


def test_a_redo_killed_half_way_resumes_to_the_same_tables(first, fresh_music_change, tmp_path):
    first_out, _ = first
    out = _copy(first_out, tmp_path)
    marker = out / "_done" / "shard-000000"
    before = marker.stat().st_mtime_ns
    cfg = write_config(tmp_path, **{"output.path": str(out), "output.shard_size": 2, **MUSIC_CHANGE})
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(cfg)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        # Killed as soon as the first shard's redo landed, before the second's.
        while marker.stat().st_mtime_ns == before and (out / "_done" / "shard-000001").stat().st_mtime_ns <= before:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(POLL_S)
    finally:
        kill_hard(proc)
    result = cli("run", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    _same_tables(out, fresh_music_change, TABLES)
