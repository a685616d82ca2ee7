from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pandas as pd
import pytest

from pipeline.manifest import ManifestError, read_inputs, recording_id_for, shard

EXT = (".wav", ".mp3")


def touch(p):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x")
    return p


def test_folder_is_recursive_sorted_and_filtered(tmp_path):
    for name in ("b.wav", "a.mp3", "sub/c.wav", "notes.txt"):
        touch(tmp_path / name)
    items = read_inputs(str(tmp_path), EXT)
    assert [i.uri for i in items] == [str(tmp_path / n) for n in ("a.mp3", "b.wav", "sub/c.wav")]


def test_glob(tmp_path):
    for name in ("x1.wav", "x2.wav", "y.wav"):
        touch(tmp_path / name)
    assert len(read_inputs(str(tmp_path / "x*.wav"), EXT)) == 2


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_manifest_formats_with_ids_and_relative_uris(tmp_path, fmt):
    touch(tmp_path / "a.wav")
    rows = [{"uri": "a.wav", "id": "rec-a", "num_speakers": 2}, {"uri": "/abs/b.wav", "id": "rec-b", "num_speakers": None}]
    path = tmp_path / f"m.{fmt}"
    if fmt == "csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows))
    else:
        pd.DataFrame(rows).to_parquet(path)
    items = read_inputs(str(path), EXT)
    assert [(i.recording_id, i.uri, i.num_speakers) for i in items] == [
        ("rec-a", str(tmp_path / "a.wav"), 2),
        ("rec-b", "/abs/b.wav", None),
    ]


def test_manifest_without_uri_column_says_what_it_has(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame([{"path": "a.wav"}]).to_csv(path, index=False)
    with pytest.raises(ManifestError, match="needs a 'uri' column; it has: path"):
        read_inputs(str(path), EXT)


def test_duplicate_uris_are_processed_once(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps({"uri": "/x/a.wav"}) for _ in range(3)))
    assert len(read_inputs(str(path), EXT)) == 1


def test_ids_are_stable_and_distinguish_same_stem():
    assert recording_id_for("/a/x.wav") == recording_id_for("/a/x.wav")
    assert recording_id_for("/a/x.wav") != recording_id_for("/b/x.wav")
    assert recording_id_for("/a/x.wav").startswith("x-")


def test_missing_input(tmp_path):
    with pytest.raises(ManifestError, match="neither a folder"):
        read_inputs(str(tmp_path / "nope"), EXT)


def test_shards_are_fixed_size_and_named_in_order():
    shards = shard(list(range(10)), 4)
    assert [(sid, len(items)) for sid, items in shards] == [("shard-000000", 4), ("shard-000001", 4), ("shard-000002", 2)]


def test_folder_walk_keeps_entries_that_cannot_be_read(tmp_path):
    # Nothing the folder holds may vanish: the decoder gives each its recordings row and a one-line reason.
    touch(tmp_path / "ok.wav")
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "gone.wav")
    os.mkfifo(tmp_path / "fifo.wav")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket.wav"))
    (tmp_path / "linked").symlink_to(tmp_path)  # a link back up the tree is walked once
    items = read_inputs(str(tmp_path), EXT)
    sock.close()
    assert [Path(i.uri).name for i in items] == ["dangling.wav", "fifo.wav", "ok.wav", "socket.wav"]
    assert all(i.problem is None for i in items)


def test_a_folder_that_cannot_be_listed_is_an_item_with_its_problem(tmp_path, monkeypatch):
    touch(tmp_path / "a.wav")
    touch(tmp_path / "locked" / "b.wav")
    real_scandir = os.scandir

    def scandir(path):  # as for a folder without read permission (root reads through chmod 000)
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = read_inputs(str(tmp_path), EXT)
    assert [Path(i.uri).name for i in items] == ["a.wav", "locked"]
    assert items[1].problem == "cannot list folder: Permission denied"


def test_glob_keeps_dangling_links(tmp_path):
    touch(tmp_path / "x1.wav")
    (tmp_path / "x2.wav").symlink_to(tmp_path / "gone.wav")
    assert [Path(i.uri).name for i in read_inputs(str(tmp_path / "x*.wav"), EXT)] == ["x1.wav", "x2.wav"]
