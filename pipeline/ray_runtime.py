"""Start or join Ray, and size actors and tasks to what the cluster really has."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field

from pipeline.config import PipelineConfig

log = logging.getLogger(__name__)

# Model actors together may claim at most this share of the cluster's CPUs; the rest is left to the
# decode + segment workers, so that a small machine (2 cores, 3 branches) can never wait on itself.
ACTOR_CPU_SHARE = 0.75


class PlacementError(RuntimeError):
    """Workers the cluster could not place (or load) in time: the run stops instead of waiting forever."""


@dataclass(frozen=True)
class Placement:
    actor_cpus: dict[str, float]  # per branch, per actor: what Ray reserves (scaled down on a small cluster)
    actor_gpus: dict[str, float]
    prepare_cpus: float
    has_gpu: bool
    # torch threads per actor: the CPUs the branch asked for, not the scaled reservation (which only lets every
    # actor fit; the branches are rarely busy at once, and Whisper with 2 threads is ~1.3x faster than with 1)
    actor_threads: dict[str, int] = field(default_factory=dict)


def init_ray(cfg: PipelineConfig) -> bool:
    """Connect to RAY_ADDRESS / runtime.address, or start a private local Ray. Returns True if local."""
    import ray

    if ray.is_initialized():
        return False
    address = cfg.runtime.address or os.environ.get("RAY_ADDRESS")
    if address:
        log.info("connecting to Ray at %s", address)
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
        return False
    num_cpus = cfg.runtime.num_cpus or os.cpu_count() or 1
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


def plan_placement(cfg: PipelineConfig, local: bool, resources: dict | None = None) -> Placement:
    """Per-actor CPUs/GPUs and prepare CPUs for this run.

    Model actors together may claim at most ACTOR_CPU_SHARE of the CPUs the cluster has now, so that
    every actor and at least one decode + segment worker can be placed. Without this, a small cluster (a
    2-CPU `ray start --head`, three 1-CPU branches) leaves an actor pending forever and the run hangs.
    With `runtime.autoscaling: true` the cluster is trusted to grow, and the requests are left as asked.
    """
    import ray

    from annotators.registry import ANNOTATORS

    total = ray.cluster_resources() if resources is None else resources
    cpus_total = float(total.get("CPU", 1.0))
    has_gpu = float(total.get("GPU", 0.0)) > 0 and cfg.runtime.device != "cpu"
    actor_cpus: dict[str, float] = {}
    actor_gpus: dict[str, float] = {}
    for name, branch in cfg.enabled_branches().items():
        declared = ANNOTATORS.get(branch.annotator).resources
        actor_cpus[name] = branch.resources.cpus or declared.cpus
        gpus = branch.resources.gpus if branch.resources.gpus is not None else declared.gpus
        actor_gpus[name] = gpus if has_gpu else 0.0
    threads = {n: max(1, math.floor(min(c, cpus_total))) for n, c in actor_cpus.items()}
    prepare = cfg.runtime.prepare_cpus
    if not cfg.runtime.autoscaling:
        claimed = sum(actor_cpus[n] * b.num_actors for n, b in cfg.enabled_branches().items())
        budget = cpus_total * ACTOR_CPU_SHARE
        if claimed > budget:
            scale = budget / claimed
            actor_cpus = {n: c * scale for n, c in actor_cpus.items()}
            if not local:
                log.warning(
                    "branch actors ask for %.3g CPUs but the cluster has %.3g; scaled to %.2f of each request "
                    "(set runtime.autoscaling: true if the cluster grows on demand)", claimed, cpus_total, scale
                )
        prepare = min(prepare, max(cpus_total - min(claimed, budget), 0.1))
    return Placement(actor_cpus, actor_gpus, prepare, has_gpu, threads)
