"""Where each worker goes: actors fitted node by node, never against the cluster's sum.

A cluster's total CPUs say nothing about whether a worker fits: a 1-CPU head plus a 2-CPU node has 3 CPUs,
yet four 0.56-CPU actors fit on neither node once the first three are placed. So every worker gets a node
here, with per-node accounting, and is pinned to it; a plan that cannot fit fails at once with the per-node
picture instead of leaving an actor pending until the start-up limit. Pure logic, no Ray: unit-tested."""

from __future__ import annotations

from dataclasses import dataclass

# Model actors may claim at most this share of each node's CPUs; the rest is left to the decode + segment
# workers, so that a small node (2 cores, 3 branches) can never wait on itself.
ACTOR_CPU_SHARE = 0.75
SCALE_STEP = 0.9  # when the actors do not fit, shrink every request by this factor and try again
MIN_ACTOR_CPUS = 0.05  # below this a request is no longer a reservation worth the name: fail instead
MIN_PREPARE_CPUS = 0.1
EPS = 1e-6  # float CPU shares (0.25 + 0.25 + ...) must not lose a slot to rounding


class PlacementError(RuntimeError):
    """Workers the cluster could not place (or load) in time: the run stops instead of waiting forever."""


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    address: str
    cpus: float
    gpus: float


@dataclass(frozen=True)
class ActorRequest:
    kind: str  # a branch name
    count: int
    cpus: float
    gpus: float


@dataclass(frozen=True)
class Slot:
    """One worker: its kind ("prepare" or a branch), what Ray reserves for it, and the node it is pinned to
    (None: left to Ray's scheduler, on an autoscaling cluster)."""

    kind: str
    index: int
    cpus: float
    gpus: float
    node_id: str | None


def fit_actors(nodes: list[NodeInfo], requests: list[ActorRequest], scale: float) -> list[Slot] | None:
    """Worst fit, largest first: each actor goes to the node with the most CPU room left that holds it (spreads
    the models over nodes, so each gets real cores). None if some actor fits nowhere at this scale."""
    cpu_room = {n.node_id: n.cpus * ACTOR_CPU_SHARE for n in nodes}
    gpu_room = {n.node_id: n.gpus for n in nodes}
    wanted = [(r.kind, i, r.cpus * scale, r.gpus) for r in requests for i in range(r.count)]
    wanted.sort(key=lambda w: (-w[3], -w[2]))  # GPU actors first: they have the fewest places to go
    slots = []
    for kind, index, cpus, gpus in wanted:
        fits = [n for n in nodes if cpu_room[n.node_id] + EPS >= cpus and gpu_room[n.node_id] + EPS >= gpus]
        if not fits:
            return None
        node = max(fits, key=lambda n: cpu_room[n.node_id])  # ties: the first node listed
        cpu_room[node.node_id] -= cpus
        gpu_room[node.node_id] -= gpus
        slots.append(Slot(kind, index, cpus, gpus, node.node_id))
    return slots


def place_actors(nodes: list[NodeInfo], requests: list[ActorRequest]) -> tuple[list[Slot], float]:
    """The largest uniform scale (<= 1) of the requests at which every actor fits on some node."""
    cpu_budget = sum(n.cpus for n in nodes) * ACTOR_CPU_SHARE
    claimed = sum(r.cpus * r.count for r in requests)
    scale = min(1.0, cpu_budget / claimed) if claimed > 0 else 1.0
    smallest = min((r.cpus for r in requests if r.cpus > 0), default=1.0)
    while scale * smallest >= MIN_ACTOR_CPUS - EPS and scale > 0:
        slots = fit_actors(nodes, requests, scale)
        if slots is not None:
            return slots, scale
        scale *= SCALE_STEP
    asks = "; ".join(f"{r.count} x {r.kind} (CPU {r.cpus:.3g}, GPU {r.gpus:.3g})" for r in requests)
    raise PlacementError(f"the branch workers fit on no node of this cluster even scaled down: {asks}. {describe(nodes)}")


def place_preparers(nodes: list[NodeInfo], actors: list[Slot], prepare_cpus: float, max_count: int) -> list[Slot]:
    """Decode + segment workers in the CPUs the actors leave, on every node with room, taken in turn across
    nodes (so that every node decodes); at least one, at most `max_count`."""
    used = {n.node_id: 0.0 for n in nodes}
    for s in actors:
        used[s.node_id] = used.get(s.node_id, 0.0) + s.cpus
    per_node = []
    for n in nodes:
        free = n.cpus - used[n.node_id]
        if free + EPS < MIN_PREPARE_CPUS:
            continue
        count = max(1, int(free / prepare_cpus + EPS))
        per_node.append((n, count, min(prepare_cpus, free / count)))
    if not per_node:
        raise PlacementError(
            f"no node has {MIN_PREPARE_CPUS:g} CPU left for a decode + segment worker beside the branch workers. "
            f"{describe(nodes, actors)}"
        )
    per_node.sort(key=lambda x: -x[1])
    slots: list[Slot] = []
    for round_ in range(max(c for _, c, _ in per_node)):
        for node, count, cpus in per_node:
            if round_ < count and len(slots) < max_count:
                slots.append(Slot("prepare", len(slots), cpus, 0.0, node.node_id))
    return slots


def describe(nodes: list[NodeInfo], slots: list[Slot] = ()) -> str:
    """The per-node picture for an error message: what each node has and what was planned on it."""
    if not nodes:
        return "The cluster has no alive nodes."
    parts = []
    for n in nodes:
        here = [f"{s.kind} {s.cpus:.2g}" for s in slots if s.node_id == n.node_id]
        parts.append(f"{n.address} ({n.node_id[:8]}): CPU {n.cpus:g}, GPU {n.gpus:g}" + (f" [{', '.join(here)}]" if here else ""))
    return "Nodes: " + "; ".join(parts)
