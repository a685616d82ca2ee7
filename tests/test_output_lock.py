"""One writer per output folder: a live run's lock refuses a second run at once; a dead run's is taken over."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest

from pipeline.locks import LOCK_FILE, OutputConflictError, output_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipeline.locks import output_lock
    with output_lock(Path(sys.argv[1])) as lock:
        lock.announce()
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_a_live_holder_is_named_and_the_second_writer_refused(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputConflictError, match=rf"being written by another moss-annotate run \(pid {holder.pid} on "):
            with output_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out) as lock:  # the kernel released the killed holder's lock
        lock.announce()
        assert json.loads((out / LOCK_FILE).read_text())["pid"] != holder.pid


def test_a_dead_runs_lock_is_taken_over_and_a_clean_exit_leaves_it_empty(tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(json.dumps({"pid": 999999, "host": "elsewhere", "started": 0}))
    with caplog.at_level(logging.INFO, logger="pipeline.locks"), output_lock(out) as lock:
        lock.announce()
    assert "taking over the lock of a run that did not finish (pid 999999 on elsewhere" in caplog.text
    assert (out / LOCK_FILE).read_text() == ""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.locks"), output_lock(out) as lock:
        lock.announce()
    assert "taking over" not in caplog.text


@pytest.mark.slow
def test_a_second_run_on_a_live_runs_output_is_refused_at_once_then_takes_over(tmp_path):
    import time

    from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, cli, kill_hard, write_config

    out = tmp_path / "out"
    cfg = write_config(tmp_path, **{"output.path": str(out), "branches.speech.enabled": False})
    first = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(cfg)], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not (out / LOCK_FILE).is_file() or not (out / LOCK_FILE).read_text():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        t0 = time.monotonic()
        second = cli("run", str(cfg), timeout=120)
        assert second.returncode == 2
        assert f"is being written by another moss-annotate run (pid {first.pid} on" in " ".join(second.stderr.split())
        assert time.monotonic() - t0 < 30  # at once: no Ray, no model
    finally:
        kill_hard(first)
    third = cli("run", str(cfg))
    assert third.returncode == 0, third.stderr[-3000:]
    assert "taking over the lock of a run that did not finish" in " ".join(third.stderr.split())
