"""Small things a user expects of the command line: --version, a readable list-annotators, run --dry-run."""

from __future__ import annotations

import importlib.metadata
import os

from tests.e2e_helpers import REPO, cli


def test_version():
    result = cli("--version", timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"moss-annotate {importlib.metadata.version('moss-annotate')}"


def test_list_annotators_fits_80_columns_with_params_and_defaults():
    result = cli("list-annotators", env={"COLUMNS": "80"}, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = result.stdout
    for key in ("whisper", "music", "audioset-events", "event"):
        assert any(line.startswith(f"{key}  ") for line in lines), key
    assert "max_instruments = 3" in text and "engine = 'ctranslate2'" in text


def test_dry_run_shows_inputs_shards_and_branches_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = cli("run", str(REPO / "pipeline.yaml"), "--output", str(out), "--dry-run", env={"COLUMNS": "200"}, timeout=120)
    assert result.returncode == 0, result.stderr
    text = result.stderr
    n = len(os.listdir(REPO / "examples" / "audio"))
    assert f"inputs: {n} from {REPO / 'examples' / 'audio'}" in text
    assert "shards: 1 of up to 4 recordings" in text
    assert "branch speech: whisper (pkg:whisper-base), 2 actor(s), batch 8" in text
    assert "plan: everything: 1 shard(s) (not done)" in text
    assert not out.exists()
