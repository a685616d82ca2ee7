"""Per-shard output: every table written atomically, then the shard's done-marker (the unit of resume)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from schemas import TABLES, from_arrow, to_arrow

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


def write_shard(out: Path, shard_id: str, rows: Mapping[str, Sequence[object]], stats: dict,
                tables: Iterable[str] | None = None) -> None:
    """Write one file per table (empty tables too, so every shard has every table), then the marker.

    `tables` limits the write to those tables (a partial redo): the others are left exactly as they are.
    A crash before the marker leaves at most complete files from this shard, which the next run overwrites
    with identical content: readers never see a half-written file and no row is written twice."""
    for table in TABLES if tables is None else [t for t in TABLES if t in set(tables)]:
        path = table_path(out, table, shard_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(to_arrow(table, rows.get(table, ())), tmp, compression=COMPRESSION)
        os.replace(tmp, path)
    done = out / DONE_DIR
    done.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(done / shard_id, json.dumps(stats, sort_keys=True).encode())


def read_rows(out: Path, table: str, shard_id: str) -> list:
    """A finished shard's table as records again (what a partial redo keeps)."""
    return from_arrow(table, pq.read_table(table_path(out, table, shard_id)))


def done_shards(out: Path) -> set[str]:
    d = out / DONE_DIR
    return {p.name for p in d.iterdir() if not p.name.startswith(".")} if d.is_dir() else set()


def members_hash(recording_ids: Iterable[str]) -> str:
    """Which recordings a shard holds, in a few bytes: a marker made for other recordings is not this shard's."""
    return hashlib.sha256("\n".join(sorted(recording_ids)).encode()).hexdigest()[:16]


def read_markers(out: Path) -> dict[str, dict]:
    """Each done shard -> its marker (row counts, and since stage fingerprints: `stages`, `members`)."""
    found = {}
    for sid in done_shards(out):
        try:
            found[sid] = json.loads((out / DONE_DIR / sid).read_text())
        except (OSError, ValueError):
            found[sid] = {}
    return found


def shard_stages(markers: Mapping[str, dict], previous: Mapping[str, str] | None) -> dict[str, dict[str, str] | None]:
    """Each done shard (its marker, `read_markers`) -> the stage fingerprints it was made with. A marker written
    before there were stage fingerprints takes `previous` (the stages of the config the output's state names),
    or None if unknown."""
    return {sid: m.get("stages") or (dict(previous) if previous else None) for sid, m in markers.items()}


def remove_stale_temp_files(out: Path) -> int:
    """Temp files of a killed run: never read (hidden names), removed so they do not pile up."""
    n = 0
    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def read_previous_stages(out: Path, stages: Mapping[str, str], legacy_fingerprint: str,
                         shard_size: int | None = None) -> dict[str, str] | None:
    """The stage fingerprints of the config that last wrote `out` (None: a new output). An output made before
    stage fingerprints existed is taken as made with this config only if its one fingerprint matches;
    otherwise what changed is unknown, and it is refused (unless the caller clears it)."""
    state_path = out / STATE_FILE
    if not state_path.is_file():
        return None
    state = json.loads(state_path.read_text())
    if shard_size is not None and state.get("shard_size", shard_size) != shard_size:
        raise OutputConflictError(
            f"{out} was written with output.shard_size={state['shard_size']}, now {shard_size}: its shards would "
            "hold other recordings; keep the shard size, use --overwrite to start over, or choose another --output"
        )
    if state.get("stages") is not None:
        return state["stages"]
    if state.get("fingerprint") != legacy_fingerprint:
        raise OutputConflictError(
            f"{out} holds output of a different config, made before per-stage fingerprints "
            f"(fingerprint {state.get('fingerprint')}, now {legacy_fingerprint}); "
            "use --overwrite to replace it, or choose another --output"
        )
    return dict(stages)


def prepare_output(out: Path, stages: Mapping[str, str], legacy_fingerprint: str, overwrite: bool,
                   shard_size: int | None = None) -> dict[str, str] | None:
    """Get the folder ready and return the stages of the config that last wrote it (None: new). A changed
    config is not refused: the plan redoes only the stages whose fingerprint moved."""
    if overwrite:
        clear_output(out)
    previous = read_previous_stages(out, stages, legacy_fingerprint, shard_size)
    out.mkdir(parents=True, exist_ok=True)
    if previous is None:
        record_state(out, stages, legacy_fingerprint, shard_size)
    remove_stale_temp_files(out)
    return previous


def record_state(out: Path, stages: Mapping[str, str], legacy_fingerprint: str, shard_size: int | None = None) -> None:
    """The config the output now holds. Updated when a run ends, not when it starts, so that a run killed
    half-way leaves the previous config's stages for the shards it did not reach."""
    data = {"fingerprint": legacy_fingerprint, "stages": dict(stages)}
    if shard_size is not None:
        data["shard_size"] = shard_size
    state = json.dumps(data, sort_keys=True).encode()
    path = out / STATE_FILE
    if not path.is_file() or path.read_bytes() != state:  # an unchanged rerun touches nothing
        _atomic_write_bytes(path, state)


def clear_output(out: Path) -> None:
    for table in TABLES:
        shutil.rmtree(out / table, ignore_errors=True)
    for name in (DONE_DIR,):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (STATE_FILE, "run.json"):
        (out / name).unlink(missing_ok=True)
