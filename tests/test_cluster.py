"""A real two-node Ray cluster on loopback, used the way a cluster user does: `ray start --head`, a second node
with `ray start --address`, and the job sent with `ray job submit --working-dir .`, in the environment the
README sets up (its `.venv` activated). Nodes equal and uneven (a 1-CPU head beside a 2-CPU node): work runs
on both, and the test stops only the cluster it started."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from pipeline.summary import read_table
from pipeline.watchdog import end_processes
from tests.e2e_helpers import REPO, RUN_TIMEOUT_S, write_config
from tests.local_servers import free_port

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
VENV_BIN = Path(sys.executable).parent
STOP_GRACE_S = 15.0
AGENT_WAIT_S = 90.0


def readme_env() -> dict:
    """The README's cluster environment: `source .venv/bin/activate` (the venv's bin first on PATH, so that the
    job's `moss-annotate` is found) and one Ray token shared by every node and the submitting shell."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(VENV_BIN.parent),
            "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def own_processes(temp_dir: str) -> list[psutil.Process]:
    """Every process of the cluster under `temp_dir`: those naming it on their command line (GCS, raylets,
    dashboard, monitors) and all their descendants (workers, agents, the job's driver)."""
    roots = []
    for p in psutil.process_iter(["cmdline"]):
        if any(temp_dir in part for part in (p.info["cmdline"] or [])):
            roots.append(p)
    found = {p.pid: p for p in roots}
    for p in roots:
        try:
            found.update({c.pid: c for c in p.children(recursive=True)})
        except psutil.Error:
            pass
    return list(found.values())


def stop_own_cluster(temp_dir: str) -> None:
    end_processes(own_processes(temp_dir))  # SIGTERM, a grace period, SIGKILL: the watchdog's own way


@pytest.fixture(params=[(2, 2), (1, 2)], ids=["equal-2+2", "uneven-1+2"])
def cluster(request):
    head_cpus, node_cpus = request.param
    temp_dir = tempfile.mkdtemp(prefix="moss-ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    port, dashboard = free_port(), free_port()
    env = readme_env()
    common = ["--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}", "--disable-usage-stats"]
    head = ["ray", "start", "--head", f"--port={port}", f"--num-cpus={head_cpus}", "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard}", *common]
    node = ["ray", "start", f"--address=127.0.0.1:{port}", f"--num-cpus={node_cpus}", *common]
    try:
        for cmd in (head, node):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        _wait_for_nodes(port, 2, env)
        yield {"address": f"http://127.0.0.1:{dashboard}", "env": env, "temp_dir": temp_dir, "cpus": (head_cpus, node_cpus)}
    finally:
        stop_own_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_for_nodes(port: int, count: int, env: dict, timeout_s: float = 60.0) -> None:
    probe = f"import ray; ray.init(address='127.0.0.1:{port}'); print(len([n for n in ray.nodes() if n['Alive']]))"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
        if out.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1.0)
    raise AssertionError(f"the cluster never had {count} nodes")


def test_a_job_submitted_to_a_two_node_cluster_runs_on_both_nodes(cluster, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for f in sorted((REPO / "examples" / "audio").iterdir()):
        shutil.copy(f, inputs / f.name)
    out = tmp_path / "out"
    cfg = write_config(tmp_path, **{"input.path": str(inputs), "output.path": str(out), "output.shard_size": 2})
    # The README's command, as written, from the checkout (the config lives beside the shared storage here).
    submit = ["ray", "job", "submit", "--address", cluster["address"], "--working-dir", ".", "--", "moss-annotate", "run", str(cfg)]
    t0 = time.monotonic()
    while True:
        job = subprocess.run(submit, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=cluster["env"])
        log = job.stdout + job.stderr
        # Ray's start-up race: the job server answers before a node's agent has registered. Retry, as a user would.
        if "No available agent to submit job" not in log or time.monotonic() - t0 > AGENT_WAIT_S:
            break
        time.sleep(2.0)
    wall = time.monotonic() - t0
    assert job.returncode == 0, log[-6000:]
    assert "succeeded" in log, log[-3000:]
    assert "Traceback" not in log, log[-6000:]

    rec = read_table(out, "recordings").to_pandas()
    assert sorted(rec.status) == ["ok"] * 4
    assert read_table(out, "captions").num_rows == 4
    nodes = json.loads((out / "run.json").read_text())["stats"]["nodes"]
    assert len(nodes) == 2, nodes  # both nodes did work
    assert sorted(n["cpus"] for n in nodes) == sorted(float(c) for c in cluster["cpus"])
    assert all(n["tasks"] > 0 and n["workers"] and n["address"] and n["node_id"] for n in nodes), nodes
    assert len({n["node_id"] for n in nodes}) == 2
    workers = [k for n in nodes for k, c in n["workers"].items() for _ in range(c)]
    assert sorted(w for w in workers if w != "prepare") == ["music", "sound", "speech", "speech"], nodes
    assert wall < 600


def test_stopping_the_test_cluster_leaves_other_ray_processes_alone(tmp_path):
    # The fixture's stop finds its cluster by its own temp dir: a process outside it is never signalled.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        temp_dir = tempfile.mkdtemp(prefix="moss-ray-", dir="/tmp")
        marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", temp_dir])
        stop_own_cluster(temp_dir)
        assert marked.wait(timeout=STOP_GRACE_S) is not None
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)
