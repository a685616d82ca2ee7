"""One writer per output: a kernel lock (flock) on local folders, a renewed lease object on object stores.

Both name their holder, so a second run is refused at once with a message saying who writes, and both are
taken over when their run died: the kernel frees a killed run's flock; a lease is taken over when it was
not renewed in time, or at once when its run was on this machine and its process is gone."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipeline.storage import Store, as_store

LOCK_FILE = "_lock"  # holds the writing run's pid while it runs (run bookkeeping, not data)
LEASE_S = 60.0  # an object-store lock not renewed for this long belongs to a run that is gone

log = logging.getLogger(__name__)


class OutputConflictError(RuntimeError):
    pass


class OutputLock:
    """Held for a whole run. `announce()` writes the holder into the lock file once there is work to do, so
    that a run with nothing to do leaves the output exactly as it was. `check()` before each write."""

    def __init__(self, fd: int):
        self.fd = fd
        self.announced = False

    def announce(self) -> None:
        previous = _describe(_parse(os.pread(self.fd, 4096, 0)))
        if previous != "unknown":
            log.info("taking over the lock of a run that did not finish (%s)", previous)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(_holder()).encode(), 0)
        self.announced = True

    def check(self) -> None:
        """A kernel lock cannot be lost while its process lives."""


@contextlib.contextmanager
def output_lock(out: Store | Path | str) -> Iterator[OutputLock | LeaseLock]:
    store = as_store(out)
    if store.remote:
        lease = LeaseLock(store)
        lease.acquire()
        try:
            yield lease
        finally:
            lease.release()
        return
    with _local_lock(store.local_path) as lock:
        yield lock


@contextlib.contextmanager
def _local_lock(out: Path) -> Iterator[OutputLock]:
    """A kernel lock, so a run that dies, even by SIGKILL, releases it; the file names the holder for the
    message a second run prints, and is emptied on a clean exit, so that content found on taking the lock
    means a dead run's lock was taken over."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _conflict(out, _describe(_parse(os.pread(fd, 4096, 0)))) from None
        lock = OutputLock(fd)
        try:
            yield lock
        finally:
            if lock.announced:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


class LeaseLock:
    """An object `_lock` created only if absent (S3 If-None-Match), holding this run's token, renewed every
    third of its lease by a thread. A renewal that finds another token (this run was paused past its lease
    and another took over) marks the lock lost, and `check()` then stops the run before its next write."""

    def __init__(self, store: Store, lease_s: float = LEASE_S):
        self.store, self.lease_s = store, lease_s
        self.token = uuid.uuid4().hex
        self.started = time.time()
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> bytes:
        return json.dumps({**_holder(self.started), "token": self.token, "renewed": time.time(),
                           "lease_s": self.lease_s}).encode()

    def acquire(self) -> None:
        if not self._create():
            holder = _parse(self._read())
            stale = _stale_reason(holder, self.lease_s)
            if stale is None:
                left = max(0.0, holder.get("renewed", 0) + holder.get("lease_s", self.lease_s) - time.time())
                raise _conflict(self.store, f"{_describe(holder)}; its lease ends in {left:.0f} s unless renewed")
            log.info("taking over the lock of a run that did not finish (%s: %s)", _describe(holder), stale)
            self.store.remove(LOCK_FILE)
            if not self._create():
                raise _conflict(self.store, _describe(_parse(self._read())))
        self._thread = threading.Thread(target=self._renew, name="moss-annotate-lease", daemon=True)
        self._thread.start()

    def _create(self) -> bool:
        try:
            return self.store.create_exclusive(LOCK_FILE, data=self._record())
        except NotImplementedError:  # no conditional create: write, then check that this run's token stayed
            if self.store.exists(LOCK_FILE):
                return False
            self.store.write_bytes(LOCK_FILE, data=self._record())
            time.sleep(1.0)
            return _parse(self._read()).get("token") == self.token

    def _read(self) -> bytes:
        try:
            return self.store.read_bytes(LOCK_FILE)
        except FileNotFoundError:
            return b""

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                holder = _parse(self._read())
                if holder.get("token") != self.token:
                    self.lost = f"lost the lock of {self.store} to another run ({_describe(holder)}); stopped before writing more"
                    log.error(self.lost)
                    return
                self.store.write_bytes(LOCK_FILE, data=self._record())
            except Exception as err:  # a store hiccup: try again at the next renewal, well inside the lease
                log.warning("renewing the lock of %s failed (%s); retrying", self.store, err)

    def announce(self) -> None:
        """The holder was written when the lease was taken."""

    def check(self) -> None:
        if self.lost:
            raise OutputConflictError(self.lost)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.lost and _parse(self._read()).get("token") == self.token:
            self.store.remove(LOCK_FILE)


def _holder(started: float | None = None) -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": started or time.time()}


def _parse(data: bytes) -> dict:
    try:
        info = json.loads(data or b"null")
        return info if isinstance(info, dict) else {}
    except ValueError:
        return {}


def _describe(info: dict) -> str:
    try:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']} on {info['host']}, started {started}"
    except (TypeError, KeyError, ValueError, OverflowError):
        return "unknown"


def _stale_reason(holder: dict, lease_s: float) -> str | None:
    """Why a lease can be taken over now, or None while its run may still be alive."""
    if not holder:
        return "unreadable lock"
    age = time.time() - float(holder.get("renewed", 0))
    if age > float(holder.get("lease_s", lease_s)):
        return f"not renewed for {age:.0f} s"
    if holder.get("host") == socket.gethostname() and not _process_alive(holder.get("pid"), holder.get("started")):
        return "its process on this machine is gone"
    return None


def _process_alive(pid, started) -> bool:
    import psutil

    try:
        # a reused pid belongs to a process that started after the lock's run did
        return psutil.Process(int(pid)).create_time() <= float(started) + 1.0
    except (psutil.Error, TypeError, ValueError):
        return False


def _conflict(out, holder: str) -> OutputConflictError:
    return OutputConflictError(
        f"{out} is being written by another moss-annotate run ({holder}); "
        "wait for it to finish, stop it, or choose another --output"
    )
