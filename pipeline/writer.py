"""Per-shard output: every table written atomically, then the shard's done-marker (the unit of resume)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from schemas import TABLES, to_arrow

DONE_DIR = "_done"
STATE_FILE = "_state.json"
COMPRESSION = "zstd"


class OutputConflictError(RuntimeError):
    pass


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
