"""Summary of a finished output folder, read back from its Parquet tables."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from schemas import TABLES
from pipeline.storage import Store, as_store
from pipeline.writer import done_shards, read_arrow


def read_table(out: Store | Path | str, table: str):
    """All shards of one table as one Arrow table (with the table's explicit schema), local or remote."""
    store = as_store(out)
    schema = TABLES[table].schema
    names = [name for name in store.names(table) if name.endswith(".parquet") and not name.startswith(".")]
    if not store.remote:
        return ds.dataset([store.path(table, n) for n in names], schema=schema, format="parquet").to_table()
    # an object store: shard by shard through the store (`read_arrow` says why), not a pyarrow dataset on fsspec
    parts = [read_arrow(store, table, n.removesuffix(".parquet"), schema) for n in names]
    return pa.concat_tables(parts) if parts else schema.empty_table()


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
