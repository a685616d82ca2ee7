"""The bundled examples/: decodable, small, attributed, truth consistent with the audio, and regenerable."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import decode

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
MAX_TOTAL_BYTES = 3 * 2**20
DURATION_TOLERANCE_S = 0.060
EVENT_ABOVE_FLOOR_DB = 15.0
GENERATOR_NEEDS = ("espeak-ng", "fluidsynth", "ffmpeg", "/usr/share/sounds/sf2/FluidR3_GM.sf2",
                   "/usr/share/sonic-pi/samples/perc_door.flac", "/usr/share/games/openttd/baseset/opensfx/opensfx.cat")


def _truth() -> list[dict]:
    return [json.loads(line) for line in (EXAMPLES / "truth.jsonl").read_text().splitlines() if line.strip()]


def test_examples_are_small_and_cover_every_kind():
    records = _truth()
    files = [EXAMPLES / r["file"] for r in records]
    assert 3 <= len(files) <= 5
    assert sum(f.stat().st_size for f in files) < MAX_TOTAL_BYTES
    assert sorted(p.name for p in (EXAMPLES / "audio").iterdir()) == sorted(f.name for f in files)
    kinds = {e["kind"] for r in records for e in r["events"]}
    assert kinds == {"speech", "music", "sound"}
    assert any(len({e["kind"] for e in r["events"]}) == 3 and any(e["overlaps"] for e in r["events"]) for r in records)


def test_every_file_is_attributed():
    text = (EXAMPLES / "ATTRIBUTION.md").read_text()
    for rec in _truth():
        assert rec["file"] in text


@pytest.mark.parametrize("rec", _truth(), ids=lambda r: r["scene"])
def test_truth_matches_the_audio(rec):
    audio = decode(str(EXAMPLES / rec["file"]))
    assert abs(audio.duration_s - rec["duration"]) <= DURATION_TOLERANCE_S
    assert audio.warnings == ()
    x = audio.samples.astype(np.float64)

    def level_db(lo: float, hi: float) -> float:
        return 10 * np.log10(np.mean(x[int(lo * audio.sample_rate) : int(hi * audio.sample_rate)] ** 2) + 1e-20)

    for event in rec["events"]:
        assert level_db(event["start"], event["end"]) > rec["noise_floor_dbfs"] + EVENT_ABOVE_FLOOR_DB, event["label"]
    for seg in rec["segments"]:  # silent stretches hold only the room tone
        if seg["kinds"] == ["silence"] and seg["end"] - seg["start"] > 0.3:
            assert level_db(seg["start"] + 0.1, seg["end"] - 0.1) < rec["noise_floor_dbfs"] + 3
    for event in rec["events"]:
        if event["kind"] == "speech":
            assert event["text_norm"] == " ".join(re.sub(r"[^\w\s']", " ", event["text"].lower()).split())


def test_generator_reproduces_the_committed_examples(tmp_path):
    missing = [n for n in GENERATOR_NEEDS if not (Path(n).exists() if n.startswith("/") else shutil.which(n))]
    if missing:
        pytest.skip(f"generator needs {', '.join(missing)}")
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_examples.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    assert (tmp_path / "truth.jsonl").read_text() == (EXAMPLES / "truth.jsonl").read_text()
    for rec in _truth():
        if not rec["file"].endswith(".mp3"):  # LAME output may differ across versions; PCM/FLAC must not
            new, old = decode(str(tmp_path / rec["file"])).samples, decode(str(EXAMPLES / rec["file"])).samples
            np.testing.assert_allclose(new, old, atol=1e-4)
