"""What object storage costs: the same run with input and output on local disk and on an S3 API.

    python bench/bench_storage.py [--input examples/audio] [--repeat 2]

The S3 API is moto's server on 127.0.0.1 (as in tests/test_object_storage.py): it measures the pipeline's
own storage path (listing, per-worker fetches, one PUT per table object, the lease), not a network.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e_helpers import write_config  # noqa: E402
from tests.s3_server import s3_server  # noqa: E402


def timed_run(cfg: Path, env: dict | None = None) -> float:
    import os

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(cfg), "--overwrite"], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=REPO / "examples" / "audio")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    files = sorted(p for p in args.input.iterdir() if p.is_file())
    with tempfile.TemporaryDirectory() as tmp, s3_server() as s3:
        tmp = Path(tmp)
        bucket = s3.new_bucket()
        fs = s3.filesystem()
        for f in files:
            fs.put_file(str(f), f"{bucket}/audio/{f.name}")
        for sub in ("local", "s3"):
            (tmp / sub).mkdir()
        local = write_config(tmp / "local", **{"input.path": str(args.input.resolve()), "output.path": str(tmp / "out")})
        remote = write_config(tmp / "s3", **{"input.path": f"s3://{bucket}/audio", "output.path": f"s3://{bucket}/out"})
        for name, cfg in (("local disk", local), ("S3 (moto, 127.0.0.1)", remote)):
            walls = [timed_run(cfg, s3.env) for _ in range(args.repeat)]
            print(f"{name}: {len(files)} files, wall {', '.join(f'{w:.1f}' for w in walls)} s (best {min(walls):.1f} s)")


if __name__ == "__main__":
    main()
