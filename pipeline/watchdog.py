"""A local Ray dies with the driver that started it, even when the driver is SIGKILLed.

When the driver of a private local Ray dies without `ray.shutdown()`, Ray's agents (DashboardAgent,
RuntimeEnvAgent) keep running. `Watchdog.start()` runs this file as a small process in its own session
that follows the driver: every POLL_S it records the processes the driver started since (pid and start
time, in a file under `runs_dir()`), and when the driver is gone it ends those still alive. A normal end
disarms it (`stop()`). The next run also ends whatever a dead run left if its watchdog died too
(`reap_dead_runs`). Imports only the standard library and psutil: it runs as a plain script.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

POLL_S = 0.5
TERM_GRACE_S = 3.0  # SIGTERM first (Ray's processes exit cleanly on it), then SIGKILL
START_SLACK_S = 1.0  # process start times are rounded: do not miss one started just before the watchdog
DISARM = b"done\n"


def runs_dir() -> Path:
    return Path(os.environ.get("MOSS_ANNOTATE_RUNS_DIR") or tempfile.gettempdir()) / "moss-annotate-runs"


class Watchdog:
    """The driver's handle: start before Ray starts, stop after `ray.shutdown()`."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    @classmethod
    def start(cls) -> Watchdog:
        runs_dir().mkdir(parents=True, exist_ok=True)
        reap_dead_runs()
        record = runs_dir() / f"run-{os.getpid()}.json"
        proc = subprocess.Popen(
            [sys.executable, __file__, str(os.getpid()), str(record)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # outlives a kill of the driver's process group, to clean up after it
        )
        return cls(proc)

    def stop(self) -> None:
        """The run ended on its own: the watchdog exits without touching anything."""
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write(DISARM)
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _alive(pid: int, started: float) -> psutil.Process | None:
    """The process, if `pid` is still the process that started at `started` (pids are reused)."""
    try:
        p = psutil.Process(pid)
        if abs(p.create_time() - started) < 0.01 and p.status() != psutil.STATUS_ZOMBIE:
            return p
    except psutil.Error:
        pass
    return None


def _write_record(record: Path, data: dict) -> None:
    tmp = record.with_name(f".{record.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, record)


def end_processes(procs: list[psutil.Process]) -> int:
    """SIGTERM, a grace period, then SIGKILL; children found meanwhile are ended with their parents."""
    found = {p.pid: p for p in procs}
    for p in procs:
        with contextlib.suppress(psutil.Error):
            found.update({c.pid: c for c in p.children(recursive=True)})
    targets = [p for pid, p in found.items() if pid != os.getpid()]
    for p in targets:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, left = psutil.wait_procs(targets, timeout=TERM_GRACE_S)
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(left, timeout=TERM_GRACE_S)
    return len(targets)


def follow(driver_pid: int, record: Path) -> None:
    driver = psutil.Process(driver_pid)
    me = psutil.Process()
    since = me.create_time() - START_SLACK_S
    data = {"driver": [driver_pid, driver.create_time()], "watchdog": [me.pid, me.create_time()], "processes": []}
    _write_record(record, data)
    tracked: dict[int, float] = {}
    while True:
        ready, _, _ = select.select([sys.stdin.buffer], [], [], POLL_S)
        if ready:
            line = sys.stdin.buffer.readline()
            if line == DISARM:
                record.unlink(missing_ok=True)
                return
            if not line:  # the driver's end of the pipe closed without a word: it died
                break
        if _alive(driver_pid, data["driver"][1]) is None:
            break
        with contextlib.suppress(psutil.Error):
            for child in driver.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if child.pid != me.pid and child.pid not in tracked and child.create_time() >= since:
                        tracked[child.pid] = child.create_time()
                        data["processes"] = sorted(tracked.items())
                        _write_record(record, data)
    end_processes([p for pid, t in tracked.items() if (p := _alive(pid, t))])
    record.unlink(missing_ok=True)


def reap_dead_runs() -> int:
    """End the processes of runs whose driver and watchdog are both gone (a watchdog killed with its driver)."""
    ended = 0
    for record in sorted(runs_dir().glob("run-*.json")):
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        if _alive(*data["driver"]) or _alive(*data["watchdog"]):
            continue
        left = [p for pid, t in data["processes"] if (p := _alive(pid, t))]
        if left:
            log.info("ending %d processes left by a dead run (driver pid %d)", len(left), data["driver"][0])
            ended += end_processes(left)
        record.unlink(missing_ok=True)
    return ended


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        follow(int(sys.argv[1]), Path(sys.argv[2]))
