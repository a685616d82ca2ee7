"""Shared fixtures: the real corpus beside the checkout (../shared/corpus) and its ground truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MOSS_CORPUS", REPO.parent / "shared" / "corpus"))


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except Exception:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "truth.jsonl").is_file():
        pytest.skip(f"corpus not found at {CORPUS} (set MOSS_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def truth(corpus_dir) -> dict[str, dict]:
    """Scene name (e.g. "s05_sound_events") -> its truth record."""
    out = {}
    for line in (corpus_dir / "truth.jsonl").read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[Path(rec["file"]).stem] = rec
    return out


def read_wav_16k(path: Path) -> np.ndarray:
    """Test helper for the corpus scenes (16 kHz mono WAV): float32 samples."""
    import soundfile as sf

    samples, sr = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == 16000, f"{path} is {sr} Hz"
    return samples.mean(axis=1).astype(np.float32)


@pytest.fixture(scope="session")
def scene_audio(corpus_dir):
    cache: dict[str, np.ndarray] = {}

    def load(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = read_wav_16k(corpus_dir / "scenes" / f"{name}.wav")
        return cache[name]

    return load
