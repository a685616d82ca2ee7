"""Per-shard output: every table written atomically, then the shard's done-marker (the unit of resume)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.locks import LOCK_FILE, OutputConflictError, output_lock  # noqa: F401 (the writer's API)
from pipeline.storage import Store, as_store
from schemas import TABLES, from_arrow, to_arrow

DONE_DIR = "_done"
STATE_FILE = "_state.json"
COMPRESSION = "zstd"

log = logging.getLogger(__name__)


Output = Store | Path | str


def table_name(table: str, shard_id: str) -> tuple[str, str]:
    """A shard's file of one table, as parts of a name inside the output."""
    return table, f"{shard_id}.parquet"


def write_shard(out: Output, shard_id: str, rows: Mapping[str, Sequence[object]], stats: dict,
                tables: Iterable[str] | None = None) -> None:
    """Write one file per table (empty tables too, so every shard has every table), then the marker.

    `tables` limits the write to those tables (a partial redo): the others are left exactly as they are.
    Each file appears whole or not at all (`Store.write_bytes`). A crash before the marker leaves at most
    complete files from this shard, which the next run overwrites with identical content: readers never see
    a half-written file and no row is written twice."""
    store = as_store(out)
    for table in TABLES if tables is None else [t for t in TABLES if t in set(tables)]:
        buf = io.BytesIO()
        pq.write_table(to_arrow(table, rows.get(table, ())), buf, compression=COMPRESSION)
        store.write_bytes(*table_name(table, shard_id), data=buf.getvalue())
    store.write_bytes(DONE_DIR, shard_id, data=json.dumps(stats, sort_keys=True).encode())


def read_arrow(out: Output, table: str, shard_id: str, schema: pa.Schema | None = None) -> pa.Table:
    """A shard's file of one table, fetched whole through the store and parsed in memory (`schema`: read
    into it, columns an older shard lacks as nulls). Never pyarrow reading through an fsspec filesystem: its
    IO threads calling into Python can abort the process at exit (apache/arrow#39162)."""
    data = as_store(out).read_bytes(*table_name(table, shard_id))
    return pq.read_table(pa.BufferReader(data), schema=schema)


def read_rows(out: Output, table: str, shard_id: str) -> list:
    """A finished shard's table as records again (what a partial redo keeps)."""
    return from_arrow(table, read_arrow(out, table, shard_id))


def done_shards(out: Output) -> set[str]:
    return {name for name in as_store(out).names(DONE_DIR) if not name.startswith(".")}


def members_hash(recording_ids: Iterable[str]) -> str:
    """Which recordings a shard holds, in a few bytes: a marker made for other recordings is not this shard's."""
    return hashlib.sha256("\n".join(sorted(recording_ids)).encode()).hexdigest()[:16]


def read_markers(out: Output) -> dict[str, dict]:
    """Each done shard -> its marker (row counts, and since stage fingerprints: `stages`, `members`)."""
    store = as_store(out)
    found = {}
    for sid in done_shards(store):
        try:
            found[sid] = json.loads(store.read_bytes(DONE_DIR, sid))
        except (OSError, ValueError):
            found[sid] = {}
    return found


def shard_stages(markers: Mapping[str, dict], previous: Mapping[str, str] | None) -> dict[str, dict[str, str] | None]:
    """Each done shard (its marker, `read_markers`) -> the stage fingerprints it was made with. A marker written
    before there were stage fingerprints takes `previous` (the stages of the config the output's state names),
    or None if unknown."""
    return {sid: m.get("stages") or (dict(previous) if previous else None) for sid, m in markers.items()}


def remove_stale_temp_files(out: Output) -> int:
    """Temp files of a killed run: never read (hidden names), removed so they do not pile up. (An object
    store has none: its objects are written in one call.)"""
    store = as_store(out)
    if store.remote:
        return 0
    n = 0
    for tmp in store.local_path.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def read_previous_stages(out: Output, stages: Mapping[str, str], legacy_fingerprint: str,
                         shard_size: int | None = None) -> dict[str, str] | None:
    """The stage fingerprints of the config that last wrote `out` (None: a new output). An output made before
    stage fingerprints existed is taken as made with this config only if its one fingerprint matches;
    otherwise what changed is unknown, and it is refused (unless the caller clears it)."""
    store = as_store(out)
    try:
        state = json.loads(store.read_bytes(STATE_FILE))
    except FileNotFoundError:
        return None
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


def prepare_output(out: Output, stages: Mapping[str, str], legacy_fingerprint: str, overwrite: bool,
                   shard_size: int | None = None) -> dict[str, str] | None:
    """Get the output ready and return the stages of the config that last wrote it (None: new). A changed
    config is not refused: the plan redoes only the stages whose fingerprint moved."""
    store = as_store(out)
    if overwrite:
        clear_output(store)
    previous = read_previous_stages(store, stages, legacy_fingerprint, shard_size)
    store.makedirs()
    if previous is None:
        record_state(store, stages, legacy_fingerprint, shard_size)
    remove_stale_temp_files(store)
    return previous


def record_state(out: Output, stages: Mapping[str, str], legacy_fingerprint: str, shard_size: int | None = None) -> None:
    """The config the output now holds. Updated when a run ends, not when it starts, so that a run killed
    half-way leaves the previous config's stages for the shards it did not reach."""
    store = as_store(out)
    data = {"fingerprint": legacy_fingerprint, "stages": dict(stages)}
    if shard_size is not None:
        data["shard_size"] = shard_size
    state = json.dumps(data, sort_keys=True).encode()
    try:
        unchanged = store.read_bytes(STATE_FILE) == state
    except FileNotFoundError:
        unchanged = False
    if not unchanged:  # an unchanged rerun touches nothing
        store.write_bytes(STATE_FILE, data=state)


def clear_output(out: Output) -> None:
    store = as_store(out)
    for name in (*TABLES, DONE_DIR):
        store.remove(name, recursive=True)
    for name in (STATE_FILE, "run.json"):
        store.remove(name)
