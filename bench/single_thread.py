"""Imported first by the single-thread benchmarks (`from single_thread import CORPUS, REPO`): one BLAS / OpenMP
/ numba thread, set before numpy loads; the repository on sys.path; the shared corpus ($MOSS_CORPUS)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("MOSS_CORPUS", REPO.parent / "shared" / "corpus"))
