"""Start or join Ray, and size actors and tasks to what the cluster really has."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field

from pipeline.config import PipelineConfig
from pipeline.placement import (
    EPS, MIN_PREPARE_CPUS, ActorRequest, NodeInfo, PlacementError, Slot, place_actors, place_preparers,
)

log = logging.getLogger(__name__)

__all__ = ["Placement", "PlacementError", "cluster_nodes", "init_ray", "pinned", "plan_placement", "starts_local_ray"]


@dataclass(frozen=True)
class Placement:
    actors: list[Slot]  # branch actors, each pinned to a node (or left to Ray on an autoscaling cluster)
    preparers: list[Slot]  # decode + segment actors
    has_gpu: bool
    nodes: list[NodeInfo]
    # torch threads per actor: the CPUs the branch asked for, not the scaled reservation (which only lets every
    # actor fit; the branches are rarely busy at once, and Whisper with 2 threads is ~1.3x faster than with 1)
    actor_threads: dict[str, int] = field(default_factory=dict)
    scale: float = 1.0  # what the CPU requests were multiplied by to fit

    def for_branch(self, name: str) -> list[Slot]:
        return [s for s in self.actors if s.kind == name]


def init_ray(cfg: PipelineConfig) -> bool:
    """Connect to RAY_ADDRESS / runtime.address, or start a private local Ray. Returns True if local."""
    import ray

    if ray.is_initialized():
        return False
    if not starts_local_ray(cfg):
        address = cfg.runtime.address or os.environ["RAY_ADDRESS"]
        log.info("connecting to Ray at %s", address)
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
        return False
    num_cpus = cfg.runtime.num_cpus or os.cpu_count() or 1
    # A private instance on this machine, gone with the run: token authentication only adds a warning.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        # "local": a private instance even when `ray start` left its address in /tmp/ray (without it,
        # ray.init would join that cluster and refuse num_cpus).
        address="local",
        num_cpus=num_cpus,
        include_dashboard=False,
        logging_level=logging.WARNING,
        configure_logging=True,
        # The working tree is importable on the driver; make workers see the same code.
        runtime_env={"env_vars": {"TOKENIZERS_PARALLELISM": "false"}},
    )
    return True


def starts_local_ray(cfg: PipelineConfig) -> bool:
    """No cluster address given (runtime.address or RAY_ADDRESS, as `ray job submit` sets): a private Ray here."""
    return not (cfg.runtime.address or os.environ.get("RAY_ADDRESS"))


def pinned(slot: Slot) -> dict:
    """Ray options that put a worker on the node its slot was planned for (soft: if that node dies, a
    restarted worker may go elsewhere rather than nowhere)."""
    if slot.node_id is None:
        return {}
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=slot.node_id, soft=True)}


def cluster_nodes() -> list[NodeInfo]:
    """Alive nodes with what each has (its total: a run is assumed to have its cluster's workers to itself)."""
    import ray

    nodes = []
    for n in ray.nodes():
        if not n.get("Alive", n.get("alive", False)):
            continue
        res = n.get("Resources", {})
        nodes.append(NodeInfo(n["NodeID"], n.get("NodeManagerAddress", "?"), float(res.get("CPU", 0.0)), float(res.get("GPU", 0.0))))
    return sorted(nodes, key=lambda n: (-n.cpus, n.node_id))


def plan_placement(cfg: PipelineConfig, local: bool, nodes: list[NodeInfo] | None = None,
                   branches: set[str] | None = None) -> Placement:
    """Per-actor CPUs/GPUs and node, and the decode + segment workers, for this run.

    Every actor is fitted node by node (`pipeline.placement`): requests are scaled down uniformly until each
    one fits on a node, leaving room there for decode + segment workers, so uneven nodes or a head without
    CPUs never leave an actor pending. With `runtime.autoscaling: true` the cluster is trusted to grow: the
    requests are kept as asked and Ray places them.
    """
    from annotators.registry import ANNOTATORS

    nodes = cluster_nodes() if nodes is None else nodes
    cpus_total = sum(n.cpus for n in nodes) or 1.0
    has_gpu = any(n.gpus > 0 for n in nodes) and cfg.runtime.device != "cpu"
    requests = []
    for name, branch in cfg.enabled_branches().items():
        if branches is not None and name not in branches:  # a partial redo starts only the branches it redoes
            continue
        declared = ANNOTATORS.get(branch.annotator).resources
        cpus = branch.resources.cpus or declared.cpus
        gpus = branch.resources.gpus if branch.resources.gpus is not None else declared.gpus
        requests.append(ActorRequest(name, branch.num_actors, cpus, gpus if has_gpu else 0.0))
    threads = {r.kind: max(1, math.floor(min(r.cpus, max(n.cpus for n in nodes) if nodes else 1.0))) for r in requests}
    rt = cfg.runtime
    if rt.autoscaling:
        actors = [Slot(r.kind, i, r.cpus, r.gpus, None) for r in requests for i in range(r.count)]
        free = max(cpus_total - sum(s.cpus for s in actors), MIN_PREPARE_CPUS)
        count = min(rt.max_in_flight, max(1, int(free / rt.prepare_cpus + EPS)))
        preparers = [Slot("prepare", i, rt.prepare_cpus, 0.0, None) for i in range(count)]
        return Placement(actors, preparers, has_gpu, nodes, threads)
    actors, scale = place_actors(nodes, requests)
    if scale < 1.0 and not local:
        claimed = sum(r.cpus * r.count for r in requests)
        log.warning(
            "branch actors ask for %.3g CPUs but the cluster has %.3g on %d node(s); scaled to %.2f of each request "
            "to fit node by node (set runtime.autoscaling: true if the cluster grows on demand)",
            claimed, cpus_total, len(nodes), scale,
        )
    preparers = place_preparers(nodes, actors, rt.prepare_cpus, rt.max_in_flight)
    return Placement(actors, preparers, has_gpu, nodes, threads, scale)
