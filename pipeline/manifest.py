"""Inputs -> a stable, ordered list of work items: a folder, a glob, or a manifest file of URIs."""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
ID_HASH_CHARS = 10


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class InputItem:
    recording_id: str
    uri: str
    num_speakers: int | None = None
    # Known at listing time to be unreadable (a folder that cannot be listed): recorded as this file's error.
    problem: str | None = None


def recording_id_for(uri: str) -> str:
    """Stable id from the URI: a readable stem plus a short hash of the full URI (stems repeat across folders)."""
    stem = _ID_UNSAFE.sub("_", Path(uri.split("?")[0]).stem)[:48] or "rec"
    digest = hashlib.sha1(uri.encode()).hexdigest()[:ID_HASH_CHARS]
    return f"{stem}-{digest}"


def read_inputs(path: str, extensions: tuple[str, ...], storage_options: dict | None = None) -> list[InputItem]:
    """Every input once, in a deterministic order (shards, and so resume, depend on it).

    Every entry the input names is kept, readable or not (dangling links, FIFOs, files without read
    permission): the decoder gives each one its `recordings` row and a one-line reason, so nothing vanishes.
    An fsspec URL (s3://bucket/prefix, a glob of one, or a manifest there) is listed through its backend."""
    from pipeline.storage import is_remote

    if is_remote(path):
        return _dedupe(_remote_items(path, extensions, storage_options or {}))
    p = Path(path)
    if p.is_dir():
        items = _walk_folder(p, extensions)
    elif p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
        items = _read_manifest(p)
    elif any(ch in path for ch in "*?["):
        items = [_item(f) for f in sorted(glob.glob(path, recursive=True)) if not os.path.isdir(f)]
    elif os.path.lexists(path):
        items = [_item(str(p))]
    else:
        raise ManifestError(f"input.path: {path!r} is neither a folder, a glob, a manifest ({', '.join(MANIFEST_SUFFIXES)}) nor a file")
    return _dedupe(items)


def _walk_folder(root: Path, extensions: tuple[str, ...]) -> list[InputItem]:
    """Entries with an audio extension of any kind (not only regular files), linked folders followed once;
    a folder that cannot be listed becomes an item of its own, so its loss is reported, not silent."""
    items: list[InputItem] = []
    seen_dirs: set[str] = set()

    def unlistable(err: OSError) -> None:
        where = err.filename or str(root)
        items.append(_item(str(where), problem=f"cannot list folder: {err.strerror or err}"))

    for folder, dirs, files in os.walk(root, onerror=unlistable, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen_dirs:  # a link back up the tree
            dirs.clear()
            continue
        seen_dirs.add(real)
        dirs.sort()
        items.extend(_item(os.path.join(folder, f)) for f in files if Path(f).suffix.lower() in extensions)
    return sorted(items, key=lambda it: Path(it.uri))  # the order of earlier versions: resume depends on it


def _remote_items(url: str, extensions: tuple[str, ...], options: dict) -> list[InputItem]:
    """A prefix (every object under it with an audio extension), a glob, a manifest, or one object."""
    from pipeline.storage import Store

    store = Store(url, options)
    fs, root = store.fs, store.root
    try:
        if any(ch in root for ch in "*?["):
            found = [p for p in fs.glob(root) if not fs.isdir(p)]
        elif fs.isdir(root):
            found = [p for p in fs.find(root) if Path(p).suffix.lower() in extensions]
        elif Path(root).suffix.lower() in MANIFEST_SUFFIXES and fs.isfile(root):
            return _read_manifest(url, fs.cat_file(root), base=url.rsplit("/", 1)[0])
        elif fs.isfile(root):
            found = [root]
        else:
            raise ManifestError(f"input.path: {url!r} matches no object (a prefix, a glob, a manifest or an object)")
    except (OSError, PermissionError) as err:
        raise ManifestError(f"input.path: cannot list {url}: {_one_line(err)}") from None
    protocol = url.split("://", 1)[0]
    return [_item(f"{protocol}://{p}") for p in sorted(found)]


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _item(uri: str, rec_id: str | None = None, num_speakers: int | None = None, problem: str | None = None) -> InputItem:
    return InputItem(recording_id=rec_id or recording_id_for(uri), uri=uri, num_speakers=num_speakers, problem=problem)


def _read_manifest(path: Path | str, data: bytes | None = None, base: str | None = None) -> list[InputItem]:
    """A manifest's rows; `data` and `base` (the URL of its folder) for one read from an object store."""
    import io

    import pandas as pd

    suffix = Path(str(path)).suffix.lower()
    source = io.BytesIO(data if data is not None else Path(path).read_bytes())
    if suffix == ".parquet":
        df = pd.read_parquet(source)
    elif suffix == ".jsonl":
        df = pd.DataFrame([json.loads(line) for line in source.read().decode().splitlines() if line.strip()])
    else:
        df = pd.read_csv(source, sep="\t" if suffix == ".tsv" else ",", dtype=str)
    if "uri" not in df.columns:
        raise ManifestError(f"{path}: a manifest needs a 'uri' column; it has: {', '.join(map(str, df.columns))}")
    items = []
    for row in df.to_dict("records"):
        uri = str(row["uri"])
        if "://" not in uri and not Path(uri).is_absolute():  # relative to the manifest, like the config's paths
            uri = f"{base}/{uri.removeprefix('./')}" if base else str((Path(path).parent / uri).resolve())
        rec_id = _optional_str(row.get("id"))
        items.append(_item(uri, rec_id, _optional_int(row.get("num_speakers"))))
    return items


def _optional_str(v) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) or str(v) == "" else str(v)


def _optional_int(v) -> int | None:
    s = _optional_str(v)
    return None if s is None else int(float(s))


def _dedupe(items: list[InputItem]) -> list[InputItem]:
    """A URI listed twice is processed once; two URIs claiming one id would collide in every table."""
    seen_uri: set[str] = set()
    by_id: dict[str, str] = {}
    out = []
    for item in items:
        if item.uri in seen_uri:
            log.warning("duplicate input %s: processed once", item.uri)
            continue
        if item.recording_id in by_id:
            raise ManifestError(f"id {item.recording_id!r} is used by both {by_id[item.recording_id]} and {item.uri}")
        seen_uri.add(item.uri)
        by_id[item.recording_id] = item.uri
        out.append(item)
    return out


def shard(items: list[InputItem], shard_size: int) -> list[tuple[str, list[InputItem]]]:
    return [(f"shard-{i // shard_size:06d}", items[i : i + shard_size]) for i in range(0, len(items), shard_size)]
