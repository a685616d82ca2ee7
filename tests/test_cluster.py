"""A job against a separate Ray head started with `ray start`, as on a real cluster (RAY_ADDRESS set)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.summary import read_table
from tests.e2e_helpers import REPO, cli, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
RAY = Path(sys.executable).with_name("ray")
# A throwaway loopback head: no token authentication to set up (Ray 2.5x+ enables it by default).
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head():
    port = free_port()
    start = [str(RAY), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats"]
    subprocess.run(start, check=True, capture_output=True, timeout=180, env=ENV)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120, env=ENV)


def test_job_runs_on_a_started_ray_head(ray_head, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    example = sorted((REPO / "examples" / "audio").iterdir())[0]
    shutil.copy(example, inputs / example.name)
    cfg = write_config(tmp_path, **{"input.path": str(inputs), "output.path": str(tmp_path / "out")})
    result = cli("run", str(cfg), env={"RAY_ADDRESS": ray_head, "RAY_AUTH_MODE": "disabled"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"connecting to Ray at {ray_head}" in result.stderr.replace("\n", " ")
    # 3 one-CPU branches on a 2-CPU head: scaled to fit, or the third actor would never be placed
    assert "but the cluster has 2; scaled to" in " ".join(result.stderr.split())
    rec = read_table(tmp_path / "out", "recordings").to_pandas()
    assert list(rec.status) == ["ok"]
    assert read_table(tmp_path / "out", "captions").num_rows == 1
