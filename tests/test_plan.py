"""The run's plan against a finished output, without Ray: which shards are redone, in what part, and why."""

from __future__ import annotations

import copy

import pytest
import yaml

from pipeline.config import parse_config, set_dotted
from pipeline.manifest import InputItem
from pipeline.runner import Runner
from pipeline.writer import OutputConflictError, members_hash, record_state, write_shard
from tests.conftest import REPO


def config(out, **changes):
    data = yaml.safe_load((REPO / "pipeline.yaml").read_text())
    data["input"]["path"] = str(REPO / data["input"]["path"])
    data["output"].update({"path": str(out), "shard_size": 2})
    return parse_config(set_dotted(copy.deepcopy(data), changes))


def items(*names):
    return [InputItem(n, f"/audio/{n}.wav") for n in names]


def finished(out, cfg, shards):
    """An output whose shards were all made with `cfg` (markers only: the plan reads nothing else)."""
    runner = Runner(cfg)
    for sid, its in shards.items():
        write_shard(out, sid, {}, {"stages": runner.stages, "members": members_hash(i.recording_id for i in its)})
    record_state(out, runner.stages, cfg.fingerprint(), cfg.output.shard_size)


def plan(cfg, its):
    runner = Runner(cfg)
    todo, _ = runner.plan(its, dry_run=True)
    return {w.shard_id: (sorted(w.stages), w.reason) for w, _ in todo}, runner.plan_lines


def test_plans_per_shard(tmp_path):
    out = tmp_path / "out"
    base = config(out)
    its = items("a", "b", "c", "d")
    finished(out, base, {"shard-000000": its[:2], "shard-000001": its[2:]})
    assert plan(base, its)[0] == {}
    work, lines = plan(config(out, **{"branches.music.params.max_instruments": 1}), its)
    assert work == {s: (["merge", "music"], "music changed") for s in ("shard-000000", "shard-000001")}
    assert lines == ["music, merge: 2 shard(s) (music changed)"]
    work, _ = plan(config(out, **{"branches.sound.enabled": False}), its)
    assert work["shard-000000"] == (["merge", "sound"], "sound disabled")
    work, _ = plan(config(out, **{"merge.time_decimals": 1}), its)
    assert work["shard-000000"] == (["merge"], "merge changed")
    work, _ = plan(config(out, **{"audio.max_duration_s": 60}), its)
    assert work["shard-000001"] == (["all"], "segmentation changed")


def test_shards_whose_inputs_moved_are_redone_whole_and_new_ones_done(tmp_path):
    out = tmp_path / "out"
    base = config(out)
    finished(out, base, {"shard-000000": items("a", "b"), "shard-000001": items("c", "d")})
    work, lines = plan(base, items("a", "b", "b2", "c", "d"))  # an input inserted: the later shards shift
    assert work == {"shard-000001": (["all"], "its inputs changed"), "shard-000002": (["all"], "not done")}
    assert "up to date: 1 shard(s)" in lines


def test_another_shard_size_is_refused(tmp_path):
    out = tmp_path / "out"
    base = config(out)
    finished(out, base, {"shard-000000": items("a", "b")})
    with pytest.raises(OutputConflictError, match="output.shard_size=2, now 3"):
        plan(config(out, **{"output.shard_size": 3}), items("a", "b"))
