"""Inputs and outputs on object storage, against a real S3 API on 127.0.0.1 (moto's server, with s3fs).

Unit level: the store's writes, listing inputs (a prefix, a glob, a manifest), the lease lock. End to end:
a run reading from and writing to the bucket, SIGKILLed after its first shard, resumed there, read back."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest

pytest.importorskip("s3fs")

from pipeline.config import ConfigError, parse_config  # noqa: E402
from pipeline.locks import LOCK_FILE, LeaseLock, OutputConflictError, output_lock  # noqa: E402
from pipeline.manifest import read_inputs  # noqa: E402
from pipeline.storage import Store  # noqa: E402
from tests.s3_server import moto_server_command, s3_server  # noqa: E402

pytestmark = pytest.mark.skipif(moto_server_command() is None, reason="needs moto[server] (moto_server)")
EXT = (".wav", ".flac", ".mp3")


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        yield server


@pytest.fixture
def bucket(s3):
    return s3.new_bucket()


def test_objects_appear_whole_and_exclusive_create_refuses_an_existing_name(s3, bucket):
    store = Store(f"s3://{bucket}/out")
    assert store.names("_done") == []
    store.write_bytes("_done", "shard-000000", data=b'{"recordings": 1}')
    assert store.names("_done") == ["shard-000000"]
    assert json.loads(store.read_bytes("_done", "shard-000000")) == {"recordings": 1}
    assert store.create_exclusive("_lock", data=b"first")
    assert not store.create_exclusive("_lock", data=b"second")  # S3's If-None-Match: *
    assert store.read_bytes("_lock") == b"first"
    store.remove("_done", recursive=True)
    assert store.names("_done") == []
    with pytest.raises(FileNotFoundError):
        store.read_bytes("missing")


def test_shards_markers_and_state_round_trip_on_the_bucket(s3, bucket):
    from pipeline.writer import clear_output, done_shards, prepare_output, read_markers, read_rows, write_shard
    from schemas.recordings import RecordingRow

    store = Store(f"s3://{bucket}/out")
    stages = {"segments": "a1", "sound": "b2"}
    assert prepare_output(store, stages, "fp", overwrite=False, shard_size=2) is None  # a new output
    rows = {"recordings": [RecordingRow("r1", f"s3://{bucket}/a.wav", "ok", duration_s=1.5)]}
    write_shard(store, "shard-000000", rows, {"recordings": 1, "stages": stages})
    assert done_shards(store) == {"shard-000000"}
    assert read_markers(Store(f"s3://{bucket}/out"))["shard-000000"]["stages"] == stages  # a fresh reader
    assert [r.recording_id for r in read_rows(store, "recordings", "shard-000000")] == ["r1"]
    assert read_rows(store, "errors", "shard-000000") == []  # every table written, empty ones too
    assert prepare_output(store, stages, "fp", overwrite=False, shard_size=2) == stages
    with pytest.raises(OutputConflictError, match="shard_size=2, now 3"):
        prepare_output(store, stages, "fp", overwrite=False, shard_size=3)
    clear_output(store)
    assert done_shards(store) == set() and not store.names("recordings")


def test_inputs_are_listed_from_a_prefix_a_glob_and_a_manifest(s3, bucket):
    fs = s3.filesystem()
    for name in ("a/x1.wav", "a/x2.flac", "a/notes.txt", "a/deeper/x3.mp3"):
        fs.pipe(f"{bucket}/{name}", b"not audio: the decoder judges that, not the listing")
    fs.pipe(f"{bucket}/m/list.csv", f"uri,id\n../a/x1.wav,first\ns3://{bucket}/a/x2.flac,\n".encode())

    prefix = read_inputs(f"s3://{bucket}/a", EXT)
    assert [i.uri for i in prefix] == [f"s3://{bucket}/a/deeper/x3.mp3", f"s3://{bucket}/a/x1.wav", f"s3://{bucket}/a/x2.flac"]
    assert [i.uri for i in read_inputs(f"s3://{bucket}/a/*.wav", EXT)] == [f"s3://{bucket}/a/x1.wav"]
    manifest = read_inputs(f"s3://{bucket}/m/list.csv", EXT)
    assert [(i.recording_id, i.uri) for i in manifest][0] == ("first", f"s3://{bucket}/m/../a/x1.wav")
    assert manifest[1].uri == f"s3://{bucket}/a/x2.flac"
    assert read_inputs(f"s3://{bucket}/a/x1.wav", EXT)[0].recording_id == prefix[1].recording_id  # ids from the URI


def test_a_remote_url_without_its_backend_is_a_config_error():
    pytest.importorskip("pytest")  # (always there) the point: gcsfs is not part of the test environment
    try:
        import gcsfs  # noqa: F401

        pytest.skip("gcsfs is installed")
    except ImportError:
        pass
    data = {"input": {"path": "gs://bucket/audio"}, "output": {"path": "nosuch://bucket/out"},
            "branches": {"sound": {"annotator": "audioset-events"}}}
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "input.path: gs:// needs an fsspec backend that is not installed" in str(err.value)
    assert "moss-annotate[gcs]" in str(err.value)
    assert "output.path: unknown storage protocol nosuch://" in str(err.value)


def test_credentials_in_storage_options_are_not_written_to_run_json():
    data = {"input": {"path": "/tmp", "storage_options": {"key": "AKIA", "client_kwargs": {"endpoint_url": "http://x"}}},
            "output": {"path": "/tmp/o", "storage_options": {"secret": "s3cr3t", "anon": False}},
            "branches": {"sound": {"annotator": "audioset-events"}}}
    dumped = parse_config(data).report_dump()
    assert dumped["input"]["storage_options"] == {"key": "***", "client_kwargs": {"endpoint_url": "http://x"}}
    assert dumped["output"]["storage_options"] == {"secret": "***", "anon": False}


def test_the_lease_lock_refuses_a_live_holder_takes_over_a_dead_one_and_notices_when_lost(s3, bucket, caplog):
    store = Store(f"s3://{bucket}/out")
    with output_lock(store) as lock:
        assert isinstance(lock, LeaseLock)
        holder = json.loads(store.read_bytes(LOCK_FILE))
        assert holder["token"] == lock.token
        with pytest.raises(OutputConflictError, match=r"being written by another moss-annotate run \(pid \d+ on .*lease ends in"):
            with output_lock(store):
                pass
    assert not store.exists(LOCK_FILE)  # a clean exit removes it

    # a run on another machine that stopped renewing 2 minutes ago
    store.write_bytes(LOCK_FILE, data=json.dumps({"pid": 1, "host": "elsewhere", "started": 0, "token": "old",
                                                  "renewed": time.time() - 120, "lease_s": 60}).encode())
    with caplog.at_level(logging.INFO, logger="pipeline.locks"), output_lock(store) as lock:
        assert json.loads(store.read_bytes(LOCK_FILE))["token"] == lock.token
    assert "taking over the lock of a run that did not finish (pid 1 on elsewhere" in caplog.text
    assert "not renewed for 1" in caplog.text

    lease = LeaseLock(store, lease_s=0.3)  # renewed every 0.1 s
    lease.acquire()
    try:
        store.write_bytes(LOCK_FILE, data=json.dumps({"pid": 2, "host": "other", "started": 0, "token": "theirs",
                                                      "renewed": time.time(), "lease_s": 60}).encode())
        deadline = time.monotonic() + 5
        while lease.lost is None and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(OutputConflictError, match="lost the lock"):
            lease.check()
    finally:
        lease.release()
    assert json.loads(store.read_bytes(LOCK_FILE))["token"] == "theirs"  # a lost lease leaves the new holder's lock


@pytest.mark.slow
def test_a_run_on_s3_writes_every_table_there_and_resumes_there_after_a_kill(s3, bucket, tmp_path):
    from pipeline.summary import read_table
    from schemas import TABLES
    from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, cli, kill_hard, write_config

    fs = s3.filesystem()
    names = sorted(p.name for p in (REPO / "examples" / "audio").iterdir())
    for name in names:
        fs.put_file(str(REPO / "examples" / "audio" / name), f"{bucket}/audio/{name}")
    fs.pipe(f"{bucket}/audio/zz_broken.wav", b"RIFF\x00\x00\x00\x00WAVEjunk")  # every input ends up somewhere
    out_url = f"s3://{bucket}/out"
    cfg = write_config(tmp_path, **{"input.path": f"s3://{bucket}/audio", "output.path": out_url, "output.shard_size": 1})

    first = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(cfg)], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not Store(out_url).names("_done"):  # a fresh store: no listing cached
            assert first.poll() is None, "the run ended before its first shard was seen"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        kill_hard(first)
    done_before = set(Store(out_url).names("_done"))
    assert 1 <= len(done_before) < len(names) + 1
    assert fs.exists(f"{bucket}/out/{LOCK_FILE}")  # the killed run's lease is left behind ...

    second = cli("run", str(cfg))
    assert second.returncode == 0, second.stderr[-3000:]
    log = " ".join((second.stdout + second.stderr).split())
    assert "taking over the lock of a run that did not finish" in log  # ... and taken over at once (same host)

    store = Store(out_url)
    assert not store.exists(LOCK_FILE)
    assert len(store.names("_done")) == len(names) + 1
    for table in TABLES:
        assert len(store.names(table)) == len(names) + 1, table
    rec = read_table(store, "recordings").to_pandas()
    assert len(rec) == len(names) + 1 and rec.recording_id.is_unique
    assert set(rec.uri) == {f"s3://{bucket}/audio/{n}" for n in [*names, "zz_broken.wav"]}
    assert (rec.status == "ok").sum() == len(names)
    errors = read_table(store, "errors").to_pandas()
    assert list(errors[errors.uri.str.endswith("zz_broken.wav")].stage) == ["decode"]
    for table in ("segments", "speech", "music", "sound", "captions", "sft"):
        assert read_table(store, table).num_rows > 0, table
    report = json.loads(store.read_bytes("run.json"))
    assert report["stats"]["shards_skipped"] == len(done_before)
    assert report["stats"]["shards_written"] == len(names) + 1 - len(done_before)

    third = cli("run", str(cfg))  # finished: nothing is rewritten
    assert third.returncode == 0
    assert json.loads(store.read_bytes("run.json")) == report
    summary = cli("report", out_url)
    assert summary.returncode == 0 and json.loads(summary.stdout)["files"] == {"ok": len(names), "error": 1}
    exported = cli("export", out_url, "--format", "webdataset", "--to", str(tmp_path / "wds"))  # audio from the bucket
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert list((tmp_path / "wds").glob("shard-*.tar"))
