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
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(REPO / data["input"]["path"])  # the configs are written elsewhere
    return data


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


def test_every_problem_of_a_config_is_listed_at_once(tmp_path):
    data = repo_config()
    data["output"]["shard_sise"] = 4  # unknown key
    data["runtime"]["max_in_flight"] = 0  # bad value
    data["input"]["path"] = str(tmp_path / "no-such-folder")  # missing path
    data["branches"]["speech"]["annotator"] = "whispr"  # unknown annotator
    data["branches"]["music"]["params"] = {"max_instrumentz": 2}  # unknown param
    data["branches"]["video"] = data["branches"]["sound"]  # unknown branch
    data["segmentation"]["segmenter"] = "evnt"  # unknown segmenter
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, data))
    lines = str(e.value).splitlines()[1:]
    expected = ["output.shard_sise: unknown key", "runtime.max_in_flight:", f"input.path: {tmp_path / 'no-such-folder'} does not exist",
                "branches.speech.annotator: unknown annotator 'whispr'", "branches.music.params.max_instrumentz: unknown key",
                "branches.video: unknown branch", "segmentation.segmenter:"]
    for want in expected:
        assert sum(want in line for line in lines) == 1, (want, lines)
    assert len(lines) == len(expected), lines


def test_validate_prints_every_problem(tmp_path):
    from tests.e2e_helpers import cli

    data = repo_config()
    data["output"]["shard_sise"] = 4
    data["branches"]["speech"]["annotator"] = "whispr"
    result = cli("validate", str(write(tmp_path, data)), timeout=120)
    assert result.returncode == 2
    err = " ".join(result.stderr.split())
    assert "output.shard_sise: unknown key" in err and "unknown annotator 'whispr'" in err
    assert "Traceback" not in result.stderr
