"""The watchdog that ends a killed run's local Ray: real processes, real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from pipeline import watchdog

DRIVER = textwrap.dedent(
    """
    import subprocess, sys, time
    from pipeline.watchdog import Watchdog
    dog = Watchdog.start()
    # a child, and a grandchild whose parent exits (reparented, as Ray's agents are when the raylet dies)
    kids = [subprocess.Popen(["sleep", "300"]), subprocess.Popen(["sh", "-c", "sleep 300 & echo $! ; wait"], stdout=subprocess.PIPE, text=True)]
    grandchild = int(kids[1].stdout.readline())
    print(dog.proc.pid, kids[0].pid, kids[1].pid, grandchild, flush=True)
    if sys.argv[1] == "stop":
        time.sleep(1.5)  # the watchdog has seen them
        dog.stop()
        print("stopped", flush=True)
    time.sleep(300)
    """
)
GONE_WITHIN_S = 15.0


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOSS_ANNOTATE_RUNS_DIR", str(tmp_path))
    return tmp_path / "moss-annotate-runs"


def _start_driver(mode: str) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, mode], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    pids = [int(x) for x in proc.stdout.readline().split()]
    return proc, pids


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.2)
    return alive


def _kill(pids: list[int]) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_sigkill_of_the_driver_ends_every_process_it_started(runs_dir):
    driver, (dog, *started) = _start_driver("hold")
    time.sleep(1.5)  # a snapshot or two
    assert len(list(runs_dir.glob("run-*.json"))) == 1
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    left = _wait_gone([dog, *started], GONE_WITHIN_S)
    _kill(left)
    assert not left, f"still running after the driver was killed: {left}"
    assert not list(runs_dir.glob("run-*.json"))  # its record went with it


def test_a_normal_stop_disarms_it(runs_dir):
    driver, (dog, *started) = _start_driver("stop")
    try:
        assert driver.stdout.readline().strip() == "stopped"
        assert _wait_gone([dog], GONE_WITHIN_S) == []
        assert all(psutil.pid_exists(p) for p in started)  # nothing of the driver's was touched
    finally:
        driver.kill()
        driver.wait()
        _kill(started)


def test_the_next_run_ends_what_a_dead_run_and_its_dead_watchdog_left(runs_dir):
    runs_dir.mkdir(parents=True)
    leftover = subprocess.Popen(["sleep", "300"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    started = psutil.Process(leftover.pid).create_time()
    record = {"driver": [dead.pid, 1.0], "watchdog": [dead.pid, 1.0], "processes": [[leftover.pid, started]]}
    (runs_dir / "run-1.json").write_text(json.dumps(record))
    try:
        assert watchdog.reap_dead_runs() == 1
        assert leftover.wait(timeout=GONE_WITHIN_S) is not None
        assert not (runs_dir / "run-1.json").exists()
    finally:
        leftover.kill()


def test_a_reused_pid_is_never_killed(runs_dir):
    runs_dir.mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "300"])
    record = {"driver": [1, 1.0], "watchdog": [1, 1.0], "processes": [[bystander.pid, 12345.0]]}  # another start time
    (runs_dir / "run-2.json").write_text(json.dumps(record))
    try:
        assert watchdog.reap_dead_runs() == 0
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
