from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config
from tests.conftest import REPO


def write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "pipeline.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def repo_config() -> dict:
    return yaml.safe_load((REPO / "pipeline.yaml").read_text())


def test_repository_pipeline_yaml_is_valid():
    cfg = load_config(REPO / "pipeline.yaml")
    assert set(cfg.enabled_branches()) == {"speech", "music", "sound"}
    assert Path(cfg.input.path).is_absolute() and Path(cfg.input.path).is_dir()


def test_misspelled_key_names_the_key(tmp_path):
    data = repo_config()
    data["output"]["shard_sise"] = 4
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, data))
    assert "output.shard_sise" in str(e.value) and "shard_size" in str(e.value)


def test_wrong_type_names_key_and_value(tmp_path):
    data = repo_config()
    data["output"]["shard_size"] = "many"
    with pytest.raises(ConfigError, match=r"output\.shard_size.*'many'"):
        load_config(write(tmp_path, data))


def test_unknown_annotator_lists_available(tmp_path):
    data = repo_config()
    data["branches"]["speech"]["annotator"] = "whispr"
    with pytest.raises(ConfigError, match=r"branches\.speech\.annotator: unknown annotator 'whispr'; available: .*whisper"):
        load_config(write(tmp_path, data))


def test_bad_annotator_param_is_caught_before_any_model_loads(tmp_path):
    data = repo_config()
    data["branches"]["speech"]["params"]["modell"] = "base"
    with pytest.raises(ConfigError, match=r"branches\.speech\.params\.modell: unknown key"):
        load_config(write(tmp_path, data))


def test_unknown_branch(tmp_path):
    data = repo_config()
    data["branches"]["video"] = data["branches"]["sound"]
    with pytest.raises(ConfigError, match="branches.video"):
        load_config(write(tmp_path, data))


def test_missing_required_section(tmp_path):
    data = repo_config()
    del data["input"]
    with pytest.raises(ConfigError, match="input: required key is missing"):
        load_config(write(tmp_path, data))


def test_fingerprint_ignores_where_and_how_fast_but_not_what(tmp_path):
    base = load_config(REPO / "pipeline.yaml")
    data = repo_config()
    data["output"]["path"] = str(tmp_path / "elsewhere")
    data["runtime"]["max_in_flight"] = 2
    data["branches"]["speech"]["batch_size"] = 3
    assert load_config(write(tmp_path, data)).fingerprint() == base.fingerprint()
    data["branches"]["speech"]["params"]["model"] = "pkg:whisper-tiny.en"
    assert load_config(write(tmp_path, data)).fingerprint() != base.fingerprint()
