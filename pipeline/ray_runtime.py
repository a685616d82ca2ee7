"""Start or join Ray, and size actors and tasks to what the cluster really has."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field

from pipeline.config import PipelineConfig

log = logging.getLogger(__name__)

# On a local Ray, model actors together may claim at most this share of the CPUs; the rest is left to the
# decode + segment tasks, so that a small machine (2 cores, 3 branches) can never wait on itself.
LOCAL_ACTOR_CPU_SHARE = 0.75


@dataclass(frozen=True)
class Placement:
    actor_cpus: dict[str, float]  # per branch, per actor: what Ray reserves (scaled down on a small local machine)
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


def plan_placement(cfg: PipelineConfig, local: bool) -> Placement:
    import ray

    from annotators.registry import ANNOTATORS

    total = ray.cluster_resources()
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
    if local:
        claimed = sum(actor_cpus[n] * b.num_actors for n, b in cfg.enabled_branches().items())
        budget = cpus_total * LOCAL_ACTOR_CPU_SHARE
        if claimed > budget:
            scale = budget / claimed
            actor_cpus = {n: c * scale for n, c in actor_cpus.items()}
    prepare = min(cfg.runtime.prepare_cpus, max(cpus_total * (1 - LOCAL_ACTOR_CPU_SHARE), 0.1)) if local else cfg.runtime.prepare_cpus
    return Placement(actor_cpus, actor_gpus, prepare, has_gpu, threads)
