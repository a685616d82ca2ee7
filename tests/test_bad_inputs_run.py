"""Malformed and unusual inputs through the whole pipeline (CLI, real Ray, real models): every input gets
exactly one `recordings` row, undecodable ones a clear `errors` row, and the run still exits 0."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.summary import read_table
from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, write_config
from tests.fault_annotators import write_clip

pytestmark = pytest.mark.slow
SKIP = {"long_20min_8khz.wav"}  # 20 minutes of audio: covered by bench/bench_memory.py
REJECT_REASON = {  # what the user is told for each file that cannot be decoded
    "empty_0_bytes.wav": "empty",
    "truncated_header_20_bytes.wav": "truncated",
    "random_bytes.wav": "not audio",
    "text_not_audio.wav": "not audio",
}
CODEC_BY_SUFFIX = {".mp3": ("mp3", "mp3"), ".flac": ("flac", "flac"), ".ogg": ("vorbis", "ogg"), ".opus": ("opus", "ogg"), ".m4a": ("aac", "mp4")}
POLL_S = 0.05


def _expected(corpus_dir: Path) -> dict[str, dict]:
    lines = (corpus_dir / "bad_inputs" / "expected.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return {Path(e["file"]).name: e for e in entries if Path(e["file"]).name not in SKIP}


EXTRA_REASON = {  # entries a folder can hold besides files: each is listed, refused in one line, never opened
    "dangling_link.wav": "dangling symbolic link",
    "fifo.wav": "is a FIFO",
}
NAN_FILE = "nan_and_inf_float.wav"
EXIT_GRACE_S = 20.0


def _write_nan_wav(path: Path) -> None:
    rate = 16000
    t = np.arange(3 * rate) / rate
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    x[rate : rate + 50] = np.nan
    x[2 * rate] = np.inf
    sf.write(path, x, rate, subtype="FLOAT")


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory, corpus_dir):
    tmp = tmp_path_factory.mktemp("bad")
    inputs = tmp / "in"
    inputs.mkdir()
    expected = _expected(corpus_dir)
    for name in expected:
        shutil.copyfile(corpus_dir / "bad_inputs" / name, inputs / name)
    (inputs / "dangling_link.wav").symlink_to(tmp / "moved_away.wav")
    os.mkfifo(inputs / "fifo.wav")
    _write_nan_wav(inputs / NAN_FILE)
    cfg = write_config(
        tmp,
        **{"input.path": str(inputs), "output.path": str(tmp / "out"), "output.shard_size": 4, "branches.speech.enabled": False},
    )
    proc = subprocess.Popen(  # its own session: whatever it starts can be found after it exits
        [sys.executable, "-m", "pipeline.cli", "run", str(cfg)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _wait_session_empty(proc.pid)
    assert proc.returncode == 0, stdout[-2000:] + stderr[-4000:]
    rec = read_table(tmp / "out", "recordings").to_pandas()
    rec["name"] = [Path(u).name for u in rec.uri]
    return expected, rec.set_index("name"), read_table(tmp / "out", "errors").to_pandas(), stdout + stderr, left


def _wait_session_empty(sid: int) -> list[str]:
    from tests.test_resume import _session_processes

    deadline = time.monotonic() + EXIT_GRACE_S
    while (left := _session_processes(sid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid, _ in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return [cmd for _, cmd in left]


def test_every_entry_is_accounted_for_in_one_line_and_nothing_is_left_running(bad_run):
    expected, rec, errors, console, left = bad_run
    for name, reason in EXTRA_REASON.items():
        assert rec.loc[name, "status"] == "error", name
        row = errors[errors.recording_id == rec.loc[name, "recording_id"]]
        assert list(row.stage) == ["decode"] and reason in row.message.iloc[0], (name, row)
    nan = rec.loc[NAN_FILE]
    assert nan.status == "ok" and "51 non-finite samples (NaN/inf) replaced by zeros" in list(nan.warnings), nan
    assert "Traceback" not in console, console[-4000:]
    assert not left, f"processes of the finished run still running: {left}"


def test_every_bad_input_has_exactly_one_recordings_row(bad_run):
    expected, rec, *_ = bad_run
    assert sorted(rec.index) == sorted([*expected, *EXTRA_REASON, NAN_FILE])
    assert rec.recording_id.is_unique


def test_undecodable_files_are_errors_with_a_clear_reason(bad_run):
    expected, rec, errors, *_ = bad_run
    rejected = {n for n, e in expected.items() if e["expected_handling"].startswith("reject")}
    assert rejected == set(REJECT_REASON)
    for name in rejected:
        assert rec.loc[name, "status"] == "error", name
        row = errors[errors.recording_id == rec.loc[name, "recording_id"]]
        assert list(row.stage) == ["decode"], (name, row)
        assert REJECT_REASON[name] in row.message.iloc[0].lower(), (name, row.message.iloc[0])
        assert REJECT_REASON[name] in rec.loc[name, "error"].lower()
    listed = {rec.loc[n, "recording_id"] for n in EXTRA_REASON}
    assert set(errors.recording_id) - listed == set(rec[rec.status == "error"].recording_id) - listed, errors


def test_decodable_files_note_codec_container_and_are_annotated(bad_run):
    expected, rec, *_ = bad_run
    for name, e in expected.items():
        events = e.get("truth") or e.get("truth_if_decoded") or []
        if name in REJECT_REASON:
            continue
        r = rec.loc[name]
        if r.status == "error":  # "accept or reject cleanly" may reject; nothing else may
            assert "or reject" in e["expected_handling"], (name, r.error)
            continue
        assert r.codec and r.container, name
        if Path(name).suffix in CODEC_BY_SUFFIX:
            assert (r.codec, r.container) == CODEC_BY_SUFFIX[Path(name).suffix], name
        if events:
            assert r.status == "ok" and r.num_segments >= 1, (name, r.status, r.num_segments)
    assert (rec.loc["mp3_data_named_wav.wav", "codec"], rec.loc["mp3_data_named_wav.wav", "container"]) == ("mp3", "mp3")
    assert rec.loc["stereo_8khz_16bit.wav", ["sample_rate", "channels"]].tolist() == [8000, 2]
    assert rec.loc["hires_48k_24bit.wav", ["sample_rate", "codec"]].tolist() == [48000, "pcm_s24le"]


def test_silent_and_sample_less_files_are_empty(bad_run):
    _, rec, *_ = bad_run
    assert rec.loc["all_zeros_5s.wav", "status"] == "empty"
    assert rec.loc["all_zeros_5s.wav", "num_segments"] == 0
    header_only = rec.loc["header_only_0_samples.wav"]
    assert header_only.status in ("empty", "error") and header_only.num_segments == 0
    assert not header_only.duration_s
    short = rec.loc["very_short_50ms.wav"]
    assert short.status in ("ok", "empty") and short.num_segments <= 1


def test_lying_headers_decode_what_is_present_and_warn(bad_run):
    _, rec, *_ = bad_run
    for name, seconds in (("truncated_data_claims_10s_has_3s.wav", 3.0), ("bad_riff_sizes.wav", 4.0)):
        r = rec.loc[name]
        assert r.duration_s == pytest.approx(seconds, abs=0.01), name
        assert any("header" in w for w in r.warnings), (name, r.warnings)


# ---- manifest problems and files that change under a running job (speech on: the full model set) -------


def _popen_run(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", str(cfg)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert proc.poll() is None, proc.stdout.read()[-4000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(POLL_S)


def test_manifest_problems_and_files_changed_during_the_run(tmp_path, corpus_dir):
    files = tmp_path / "files"
    files.mkdir()
    scene = corpus_dir / "scenes/s16_podcast_long.wav"
    write_clip(scene, files / "speech.wav", 23.0, 30.0)
    write_clip(scene, files / "replaced.wav", 49.0, 55.0)
    write_clip(scene, tmp_path / "replacement.wav", 88.0, 97.0)
    write_clip(scene, files / "deleted.wav", 13.0, 18.0)
    os.mkfifo(files / "fifo.wav")  # a reader would block forever on it
    uris = [files / "speech.wav", files / "speech.wav", files / "missing.wav", files, files / "fifo.wav", files / "replaced.wav", files / "deleted.wav"]
    unreadable = files / "unreadable.wav"
    if os.geteuid() != 0:  # root reads through chmod 000
        write_clip(scene, unreadable, 13.0, 18.0)
        unreadable.chmod(0)
        uris.append(unreadable)
    manifest = tmp_path / "inputs.jsonl"
    manifest.write_text("".join(json.dumps({"uri": str(u)}) + "\n" for u in uris))
    out = tmp_path / "out"
    cfg = write_config(tmp_path, **{"input.path": str(manifest), "output.path": str(out), "output.shard_size": 3})

    proc = _popen_run(cfg)
    try:
        _wait_for(out / "_state.json", proc, RUN_TIMEOUT_S)  # the manifest has been read; no file decoded yet
        os.replace(tmp_path / "replacement.wav", files / "replaced.wav")
        (files / "deleted.wav").unlink()
        log, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, log[-4000:]

    rec = read_table(out, "recordings").to_pandas().set_index("uri")
    assert rec.index.is_unique and sorted(rec.index) == sorted({str(u) for u in uris})
    assert rec.loc[str(files / "speech.wav"), "status"] == "ok"
    assert rec.loc[str(files / "replaced.wav"), "status"] == "ok"
    assert rec.loc[str(files / "replaced.wav"), "duration_s"] == pytest.approx(9.0, abs=0.01)  # the new content
    reasons = {
        files / "missing.wav": "file not found",
        files / "deleted.wav": "file not found",
        files: "is a folder",
        files / "fifo.wav": "is a FIFO",
    }
    if unreadable in uris:
        reasons[unreadable] = "permission denied"
    errors = read_table(out, "errors").to_pandas().set_index("uri")
    assert sorted(errors.index) == sorted(str(u) for u in reasons)
    for uri, reason in reasons.items():
        assert rec.loc[str(uri), "status"] == "error"
        assert reason in errors.loc[str(uri), "message"], (uri, errors.loc[str(uri), "message"])
    speech = read_table(out, "speech").to_pandas()
    assert set(speech.recording_id) >= set(rec[rec.status == "ok"].recording_id)
