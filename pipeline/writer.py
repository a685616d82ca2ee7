"""Per-shard output: every table written atomically, then the shard's done-marker (the unit of resume)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from schemas import TABLES, to_arrow

DONE_DIR = "_done"
STATE_FILE = "_state.json"
LOCK_FILE = "_lock"  # holds the writing run's pid while it runs (run bookkeeping, not data)
COMPRESSION = "zstd"

log = logging.getLogger(__name__)


class OutputConflictError(RuntimeError):
    pass


class OutputLock:
    """Held for a whole run. `announce()` writes the holder into the lock file once there is work to do, so
    that a run with nothing to do leaves the output exactly as it was."""

    def __init__(self, fd: int):
        self.fd = fd
        self.announced = False

    def announce(self) -> None:
        previous = _lock_holder(self.fd)
        if previous != "unknown":
            log.info("taking over the lock of a run that did not finish (%s)", previous)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}).encode(), 0)
        self.announced = True


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[OutputLock]:
    """One writer per output folder. A kernel lock (flock), so a run that dies, even by SIGKILL, releases it;
    the file names the holder for the message a second run prints, and is emptied on a clean exit, so that
    content found on taking the lock means a dead run's lock was taken over."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            raise OutputConflictError(
                f"{out} is being written by another moss-annotate run ({holder}); "
                "wait for it to finish, stop it, or choose another --output"
            ) from None
        lock = OutputLock(fd)
        try:
            yield lock
        finally:
            if lock.announced:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _lock_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"null")
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']} on {info['host']}, started {started}"
    except (ValueError, TypeError, KeyError, OSError):
        return "unknown"


def table_path(out: Path, table: str, shard_id: str) -> Path:
    return out / table / f"{shard_id}.parquet"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_shard(out: Path, shard_id: str, rows: Mapping[str, Sequence[object]], stats: dict) -> None:
    """Write one file per table (empty tables too, so every shard has every table), then the marker.

    A crash before the marker leaves at most complete files from this shard, which the next run overwrites
    with identical content: readers never see a half-written file and no row is written twice."""
    for table in TABLES:
        path = table_path(out, table, shard_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(to_arrow(table, rows.get(table, ())), tmp, compression=COMPRESSION)
        os.replace(tmp, path)
    done = out / DONE_DIR
    done.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(done / shard_id, json.dumps(stats, sort_keys=True).encode())


def done_shards(out: Path) -> set[str]:
    d = out / DONE_DIR
    return {p.name for p in d.iterdir() if not p.name.startswith(".")} if d.is_dir() else set()


def remove_stale_temp_files(out: Path) -> int:
    """Temp files of a killed run: never read (hidden names), removed so they do not pile up."""
    n = 0
    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def prepare_output(out: Path, fingerprint: str, overwrite: bool) -> None:
    """Refuse to mix outputs of two different configs in one folder unless told to start over."""
    state_path = out / STATE_FILE
    if overwrite:
        clear_output(out)
    elif state_path.is_file():
        previous = json.loads(state_path.read_text()).get("fingerprint")
        if previous != fingerprint:
            raise OutputConflictError(
                f"{out} holds output of a different config (fingerprint {previous}, now {fingerprint}); "
                "use --overwrite to replace it, or choose another --output"
            )
    out.mkdir(parents=True, exist_ok=True)
    state = json.dumps({"fingerprint": fingerprint}).encode()
    if not state_path.is_file() or state_path.read_bytes() != state:  # an unchanged rerun touches nothing
        _atomic_write_bytes(state_path, state)
    remove_stale_temp_files(out)


def clear_output(out: Path) -> None:
    for table in TABLES:
        shutil.rmtree(out / table, ignore_errors=True)
    for name in (DONE_DIR,):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (STATE_FILE, "run.json"):
        (out / name).unlink(missing_ok=True)
