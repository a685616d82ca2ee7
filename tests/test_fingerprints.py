"""Stage fingerprints and the per-shard plan: what counts, what does not, and what a change redoes."""

from __future__ import annotations

import copy

import pytest
import yaml

from pipeline.config import parse_config
from pipeline.fingerprints import FULL, MERGE, SEGMENTS, describe_plan, shard_work, stage_fingerprints
from tests.conftest import REPO


@pytest.fixture
def raw() -> dict:
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(REPO / data["input"]["path"])
    return data


def fps(data: dict) -> dict[str, str]:
    return stage_fingerprints(parse_config(copy.deepcopy(data)))


def test_a_branch_param_moves_only_that_branch_and_the_merge(raw):
    base = fps(raw)
    raw["branches"]["music"].setdefault("params", {})["max_instruments"] = 1
    changed = fps(raw)
    assert {k for k in base if base[k] != changed[k]} == {"music", MERGE}


def test_speed_and_place_never_count(raw):
    base = fps(raw)
    raw["branches"]["speech"]["batch_size"] = 2
    raw["branches"]["speech"]["num_actors"] = 1
    raw["branches"]["music"]["resources"] = {"cpus": 0.5}
    raw["runtime"]["max_in_flight"] = 2
    raw["output"]["path"] = "/elsewhere"
    raw["output"]["shard_size"] = 4
    raw["branches"]["music"].setdefault("params", {})["warmup"] = False  # a param marked speed_only
    assert fps(raw) == base


def test_a_default_written_out_is_the_same_config(raw):
    base = fps(raw)
    raw["branches"]["music"].setdefault("params", {})["max_instruments"] = 3  # the default, now written out
    assert fps(raw) == base


def test_segmentation_moves_every_stage(raw):
    base = fps(raw)
    raw["audio"]["max_duration_s"] = 3600
    changed = fps(raw)
    assert all(base[k] != changed[k] for k in base)


def test_the_plan_per_shard():
    now = {SEGMENTS: "s", "speech": "a", "music": "m2", MERGE: "x2"}
    assert shard_work("s0", None, now).stages == {FULL}
    assert shard_work("s0", {**now, SEGMENTS: "old"}, now).reason == "segmentation changed"
    assert shard_work("s0", now, now) is None
    music = shard_work("s0", {**now, "music": "m1", MERGE: "x1"}, now)
    assert music.stages == {"music", MERGE} and music.reason == "music changed"
    enabled = shard_work("s0", {SEGMENTS: "s", "speech": "a", MERGE: "x1"}, now)
    assert enabled.stages == {"music", MERGE} and enabled.reason == "music enabled"
    disabled = shard_work("s0", {**now, "sound": "o", MERGE: "x1"}, now)
    assert disabled.stages == {"sound", MERGE} and disabled.reason == "sound disabled"
    merge_only = shard_work("s0", {**now, MERGE: "x1"}, now)
    assert merge_only.stages == {MERGE} and merge_only.reason == "merge changed"
    lines = describe_plan([music, shard_work("s1", {**now, "music": "m1"}, now), shard_work("s2", None, now)], done=3)
    assert lines == ["everything: 1 shard(s) (not done)", "music, merge: 2 shard(s) (music changed)", "up to date: 1 shard(s)"]
