"""A real S3 API on 127.0.0.1 for storage tests: moto's server mode, started and stopped by the test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.local_servers import free_port, stop

START_TIMEOUT_S = 30.0


def moto_server_command() -> str | None:
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.is_file() else shutil.which("moto_server")


@dataclass
class S3Server:
    endpoint: str
    env: dict[str, str]  # what a process needs to use it: endpoint and (fake) credentials

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(client_kwargs={"endpoint_url": self.endpoint}, key="test", secret="test",
                                 skip_instance_cache=True)

    def new_bucket(self) -> str:
        name = f"moss-{uuid.uuid4().hex[:12]}"
        self.filesystem().mkdir(name)
        return name


@contextlib.contextmanager
def s3_server() -> Iterator[S3Server]:
    command = moto_server_command()
    assert command, "moto_server not found"
    port = free_port()
    proc = subprocess.Popen([command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on port {port}") from None
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_DEFAULT_REGION": "us-east-1"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # this process's s3fs takes the endpoint from the environment, like a user's
        try:
            yield S3Server(endpoint, env)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        stop(proc)
