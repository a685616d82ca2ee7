"""Summary of a finished output folder, read back from its Parquet tables."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas import TABLES
from pipeline.storage import Store, as_store
from pipeline.writer import done_shards


def read_table(out: Store | Path | str, table: str):
    """All shards of one table as one Arrow table (with the table's explicit schema), local or remote."""
    store = as_store(out)
    schema = TABLES[table].schema
    names = [name for name in store.names(table) if name.endswith(".parquet") and not name.startswith(".")]
    if not store.remote:
        return ds.dataset([store.path(table, n) for n in names], schema=schema, format="parquet").to_table()
    # On an object store each shard is fetched whole through the store and parsed in memory: pyarrow reading
    # through an fsspec filesystem (its IO threads calling into Python) can abort the process at exit
    # ("terminate called without an active exception", apache/arrow#39162; seen once in `report s3://`).
    parts = [_conformed(pq.read_table(pa.BufferReader(store.read_bytes(table, n))), schema) for n in names]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _conformed(t: pa.Table, schema: pa.Schema) -> pa.Table:
    """`t` in the table's schema: columns of an older shard that lacks newer fields are null."""
    cols = [t.column(f.name).cast(f.type) if f.name in t.column_names else pa.nulls(len(t), f.type) for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def summarize(out: Store | Path | str) -> dict:
    out = as_store(out)
    if not out.names("recordings"):
        raise FileNotFoundError(f"{out} is not an output folder of `moss-annotate run` (no recordings/)")
    rec = read_table(out, "recordings").to_pandas()
    err = read_table(out, "errors").to_pandas()
    run = json.loads(out.read_bytes("run.json")) if out.is_file("run.json") else {}
    return {
        "shards_done": len(done_shards(out)),
        "files": {k: int(v) for k, v in rec["status"].value_counts().items()},
        "audio_hours": float(rec["duration_s"].fillna(0).sum() / 3600),
        "rows": {t: read_table(out, t).num_rows for t in TABLES},
        "errors_by_stage": {k: int(v) for k, v in err["stage"].value_counts().items()} if len(err) else {},
        "realtime_factor": run.get("realtime_factor"),
    }
