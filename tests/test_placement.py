"""Actor sizing: every actor fits the cluster it runs on, and an actor that cannot be placed fails the run clearly."""

from __future__ import annotations

import pytest

from pipeline.config import PipelineConfig
from pipeline.ray_runtime import ACTOR_CPU_SHARE, plan_placement
from pipeline.runner import _prepare_slots
from tests.e2e_helpers import cli, write_config


def config(**runtime) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "input": {"path": "."},
            "output": {"path": "out"},
            "branches": {
                "speech": {"annotator": "whisper", "resources": {"cpus": 1.0, "gpus": 0.5}},
                "music": {"annotator": "music", "resources": {"cpus": 1.0}},
                "sound": {"annotator": "audioset-events", "resources": {"cpus": 1.0}},
            },
            "runtime": runtime,
        }
    )


@pytest.mark.parametrize("local", [True, False])
def test_actors_and_one_preparer_fit_a_two_cpu_cluster(local):
    # A 2-CPU `ray start --head` and three 1-CPU branches: unscaled, the third actor would wait forever.
    cfg = config()
    p = plan_placement(cfg, local, {"CPU": 2.0})
    claimed = sum(p.actor_cpus.values())
    assert claimed == pytest.approx(2.0 * ACTOR_CPU_SHARE)
    assert claimed + p.prepare_cpus <= 2.0 + 1e-9
    assert _prepare_slots({"CPU": 2.0}, p, cfg) == 1
    assert p.actor_threads == {"speech": 1, "music": 1, "sound": 1}  # threads follow the request, not the share
    assert p.actor_gpus == {"speech": 0.0, "music": 0.0, "sound": 0.0}  # no GPU in the cluster: none asked


def test_a_big_enough_cluster_gets_the_requests_unchanged():
    cfg = config()
    p = plan_placement(cfg, False, {"CPU": 32.0, "GPU": 2.0})
    assert p.actor_cpus == {"speech": 1.0, "music": 1.0, "sound": 1.0}
    assert p.actor_gpus["speech"] == 0.5 and p.has_gpu
    assert p.prepare_cpus == 1.0
    assert _prepare_slots({"CPU": 32.0}, p, cfg) == cfg.runtime.max_in_flight


def test_autoscaling_keeps_requests_that_exceed_the_cluster_now():
    p = plan_placement(config(autoscaling=True), False, {"CPU": 2.0})
    assert p.actor_cpus == {"speech": 1.0, "music": 1.0, "sound": 1.0}


def test_device_cpu_never_asks_for_gpus():
    p = plan_placement(config(device="cpu"), False, {"CPU": 8.0, "GPU": 1.0})
    assert not p.has_gpu and set(p.actor_gpus.values()) == {0.0}


@pytest.mark.slow
def test_an_actor_the_cluster_cannot_place_fails_the_run_with_a_clear_error(tmp_path):
    # autoscaling: requests are kept, and 64 CPUs never appear on this machine.
    cfg = write_config(
        tmp_path,
        **{
            "output.path": str(tmp_path / "out"),
            "branches.music.resources": {"cpus": 64.0},
            "runtime.autoscaling": True,
            "runtime.actor_start_timeout_s": 20,  # the decode + segment workers load within it, then music waits
        },
    )
    result = cli("run", str(cfg), timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    err = " ".join(result.stderr.split())
    assert "music workers were not placed and loaded within runtime.actor_start_timeout_s=20 s" in err
    assert "CPU 64" in err


@pytest.mark.slow
def test_a_model_that_fails_to_load_stops_the_run_in_one_line(tmp_path):
    cfg = write_config(tmp_path, **{"output.path": str(tmp_path / "out"), "branches.speech.params.model": str(tmp_path / "missing.pt")})
    result = cli("run", str(cfg), timeout=300)
    assert result.returncode == 1
    text = " ".join(result.stderr.split())  # rich wraps long lines
    assert text.count("speech workers failed to load: ValueError:") == 1
    out = text.split("speech workers failed to load")[-1]  # the run's own last words
    assert "missing.pt" in out and "no such file" in out
    assert not list((tmp_path / "out").glob("_done/*"))
