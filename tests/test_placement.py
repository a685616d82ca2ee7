"""Actor sizing: every actor fits the cluster it runs on, and an actor that cannot be placed fails the run clearly."""

from __future__ import annotations

import pytest

from pipeline.config import PipelineConfig
from pipeline.placement import ACTOR_CPU_SHARE, ActorRequest, NodeInfo, PlacementError, fit_actors, place_actors
from pipeline.ray_runtime import plan_placement
from tests.e2e_helpers import cli, write_config


def config(num_actors: int = 1, **runtime) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "input": {"path": "."},
            "output": {"path": "out"},
            "branches": {
                "speech": {"annotator": "whisper", "num_actors": num_actors, "resources": {"cpus": 1.0, "gpus": 0.5}},
                "music": {"annotator": "music", "resources": {"cpus": 1.0}},
                "sound": {"annotator": "audioset-events", "resources": {"cpus": 1.0}},
            },
            "runtime": runtime,
        }
    )


def nodes(*cpus_gpus: tuple[float, float]) -> list[NodeInfo]:
    return [NodeInfo(f"node{i}", f"10.0.0.{i}", c, g) for i, (c, g) in enumerate(cpus_gpus)]


def used_by_node(p) -> dict[str, float]:
    used: dict[str, float] = {}
    for s in p.actors + p.preparers:
        used[s.node_id] = used.get(s.node_id, 0.0) + s.cpus
    return used


def assert_fits(p, cluster: list[NodeInfo]) -> None:
    """What Ray will check: every node holds what was planned on it, CPUs and GPUs."""
    have = {n.node_id: n for n in cluster}
    for node, cpus in used_by_node(p).items():
        assert cpus <= have[node].cpus + 1e-9, (node, cpus, have[node])
    for node in have:
        gpus = sum(s.gpus for s in p.actors if s.node_id == node)
        assert gpus <= have[node].gpus + 1e-9


@pytest.mark.parametrize("local", [True, False])
def test_actors_and_one_preparer_fit_a_two_cpu_cluster(local):
    # A 2-CPU `ray start --head` and three 1-CPU branches: unscaled, the third actor would wait forever.
    cluster = nodes((2.0, 0.0))
    p = plan_placement(config(), local, cluster)
    claimed = sum(s.cpus for s in p.actors)
    assert claimed == pytest.approx(2.0 * ACTOR_CPU_SHARE)
    assert len(p.preparers) == 1
    assert_fits(p, cluster)
    assert p.actor_threads == {"speech": 1, "music": 1, "sound": 1}  # threads follow the request, not the share
    assert {s.gpus for s in p.actors} == {0.0}  # no GPU in the cluster: none asked


@pytest.mark.parametrize(
    "cluster",
    [((1.0, 0.0), (2.0, 0.0)), ((2.0, 0.0), (1.0, 0.0)), ((0.0, 0.0), (2.0, 0.0)), ((0.0, 0.0), (1.0, 0.0), (1.0, 0.0)),
     ((2.0, 0.0), (2.0, 0.0)), ((1.0, 0.0), (3.0, 0.0), (5.0, 0.0))],
    ids=["1+2", "2+1", "0-cpu-head+2", "0+1+1", "2+2", "1+3+5"],
)
@pytest.mark.parametrize("speech_actors", [1, 2])
def test_uneven_nodes_get_every_actor_placed_node_by_node(cluster, speech_actors):
    # The hang this replaces: 3 CPUs in all, so each actor was scaled to 0.75, but no single node had 0.75
    # left for the last one. Planned per node, every actor and at least one preparer fit where Ray puts them.
    cluster = nodes(*cluster)
    cfg = config(num_actors=speech_actors)
    p = plan_placement(cfg, False, cluster)
    assert sorted(s.kind for s in p.actors) == sorted(["speech"] * speech_actors + ["music", "sound"])
    assert p.preparers
    assert_fits(p, cluster)
    assert all(s.node_id != "node0" for s in p.actors + p.preparers if cluster[0].cpus == 0)  # a 0-CPU head holds none


def test_models_spread_over_nodes_and_every_node_with_room_decodes():
    cluster = nodes((8.0, 0.0), (8.0, 0.0))
    p = plan_placement(config(num_actors=2), False, cluster)
    assert {s.node_id for s in p.actors} == {"node0", "node1"}
    assert {s.node_id for s in p.preparers} == {"node0", "node1"}
    assert len(p.preparers) == 8  # max_in_flight
    assert all(s.cpus == 1.0 for s in p.actors)  # room enough: requests kept


def test_a_big_enough_cluster_gets_the_requests_unchanged():
    cluster = nodes((32.0, 2.0))
    p = plan_placement(config(), False, cluster)
    assert {s.kind: s.cpus for s in p.actors} == {"speech": 1.0, "music": 1.0, "sound": 1.0}
    assert p.for_branch("speech")[0].gpus == 0.5 and p.has_gpu
    assert {s.cpus for s in p.preparers} == {1.0}
    assert len(p.preparers) == config().runtime.max_in_flight


def test_gpu_actors_go_to_the_gpu_node():
    cluster = nodes((4.0, 0.0), (2.0, 1.0))
    p = plan_placement(config(num_actors=2), False, cluster)
    assert {s.node_id for s in p.for_branch("speech")} == {"node1"}  # 2 x 0.5 GPU
    assert_fits(p, cluster)


def test_a_request_no_node_can_hold_fails_at_once_with_the_per_node_picture():
    cluster = nodes((4.0, 0.0), (2.0, 1.0))
    cfg = config(num_actors=3)  # 3 x 0.5 GPU, one GPU in the cluster
    with pytest.raises(PlacementError) as e:
        plan_placement(cfg, False, cluster)
    msg = str(e.value)
    assert "fit on no node" in msg and "3 x speech (CPU 1, GPU 0.5)" in msg
    assert "10.0.0.0 (node0): CPU 4, GPU 0" in msg and "10.0.0.1 (node1): CPU 2, GPU 1" in msg


def test_a_cluster_without_cpus_for_work_fails_at_once():
    with pytest.raises(PlacementError, match="fit on no node"):
        plan_placement(config(), False, nodes((0.0, 0.0)))


def test_autoscaling_keeps_requests_that_exceed_the_cluster_now():
    p = plan_placement(config(autoscaling=True), False, nodes((2.0, 0.0)))
    assert {s.kind: s.cpus for s in p.actors} == {"speech": 1.0, "music": 1.0, "sound": 1.0}
    assert {s.node_id for s in p.actors} == {None}  # left to Ray's scheduler


def test_device_cpu_never_asks_for_gpus():
    p = plan_placement(config(device="cpu"), False, nodes((8.0, 1.0)))
    assert not p.has_gpu and {s.gpus for s in p.actors} == {0.0}


def test_scaled_to_the_cluster_sum_the_last_actor_fits_nowhere_so_the_scale_goes_on_down():
    # Four actors scaled to the sum (2.25 CPUs of actor room / 4 = 0.5625 each): two fit on the 2-CPU node,
    # one on the head, the fourth on neither. Scaled further, all four fit.
    cluster = nodes((1.0, 0.0), (2.0, 0.0))
    reqs = [ActorRequest("speech", 2, 0.5625, 0.0), ActorRequest("music", 1, 0.5625, 0.0), ActorRequest("sound", 1, 0.5625, 0.0)]
    assert fit_actors(cluster, reqs, 1.0) is None
    slots, scale = place_actors(cluster, reqs)
    assert len(slots) == 4 and scale < 1.0


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
