"""Convert an openai-whisper `.pt` checkpoint into a CTranslate2 Whisper folder, with no network.

The inverse of whisper_loader's CTranslate2 -> openai-whisper mapping: fused QKV / KV projections, the
WhisperSpec scalars, config.json (alignment heads, language ids, suppressed tokens) and the vocabulary,
written from openai-whisper's own tiktoken files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from annotators.speech.ct2_format import write_ct2

WHISPER_SPEC, WHISPER_SPEC_REVISION = "WhisperSpec", 3
GELU = 3  # CTranslate2's ActivationType
SPACE_TOKEN = 220


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (the form of byte-level BPE vocabularies)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(printable, map(chr, chars)))


def vocabulary(tokenizer, n_vocab: int) -> list[str]:
    table = _bytes_to_unicode()
    tokens: list[str | None] = [None] * n_vocab
    enc = tokenizer.encoding
    for token_bytes, rank in enc._mergeable_ranks.items():
        tokens[rank] = "".join(table[b] for b in token_bytes)
    for text, rank in enc._special_tokens.items():
        if rank < n_vocab:
            tokens[rank] = text
    return [t if t is not None else f"<|unused{i}|>" for i, t in enumerate(tokens)]


def _variables(state: dict[str, np.ndarray], n_audio_layer: int, n_text_layer: int, heads: tuple[int, int]) -> dict:
    v: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        v[f"{dst}/weight"] = state[f"{src}.weight"]
        if bias:
            v[f"{dst}/bias"] = state[f"{src}.bias"]

    def norm(dst: str, src: str) -> None:
        v[f"{dst}/gamma"], v[f"{dst}/beta"] = state[f"{src}.weight"], state[f"{src}.bias"]

    def fused(dst: str, src: str, names: tuple[str, ...]) -> None:
        weights = [state[f"{src}.{n}.weight"] for n in names]
        v[f"{dst}/weight"] = np.concatenate(weights, axis=0)
        v[f"{dst}/bias"] = np.concatenate([state.get(f"{src}.{n}.bias", np.zeros(len(w), w.dtype)) for n, w in zip(names, weights)])

    def block(dst: str, src: str, cross: bool) -> None:
        norm(f"{dst}/self_attention/layer_norm", f"{src}.attn_ln")
        fused(f"{dst}/self_attention/linear_0", f"{src}.attn", ("query", "key", "value"))
        linear(f"{dst}/self_attention/linear_1", f"{src}.attn.out")
        if cross:
            norm(f"{dst}/attention/layer_norm", f"{src}.cross_attn_ln")
            linear(f"{dst}/attention/linear_0", f"{src}.cross_attn.query")
            fused(f"{dst}/attention/linear_1", f"{src}.cross_attn", ("key", "value"))
            linear(f"{dst}/attention/linear_2", f"{src}.cross_attn.out")
        norm(f"{dst}/ffn/layer_norm", f"{src}.mlp_ln")
        linear(f"{dst}/ffn/linear_0", f"{src}.mlp.0")
        linear(f"{dst}/ffn/linear_1", f"{src}.mlp.2")

    for conv in ("conv1", "conv2"):
        linear(f"encoder/{conv}", f"encoder.{conv}")
    v["encoder/position_encodings/encodings"] = state["encoder.positional_embedding"]
    for i in range(n_audio_layer):
        block(f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    norm("encoder/layer_norm", "encoder.ln_post")
    v["encoder/num_heads"] = np.array(heads[0], np.int16)
    v["decoder/embeddings/weight"] = state["decoder.token_embedding.weight"]
    v["decoder/position_encodings/encodings"] = state["decoder.positional_embedding"]
    for i in range(n_text_layer):
        block(f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    norm("decoder/layer_norm", "decoder.ln")
    v["decoder/num_heads"] = np.array(heads[1], np.int16)
    scalars = {"activation": (GELU, np.int8), "alibi": (0, np.int8), "alignment_heads": (1, np.int16),
               "alignment_layer": (-1, np.int16), "pre_norm": (1, np.int8), "scale_embeddings": (0, np.int8),
               "start_from_zero_embedding": (0, np.int8)}
    for name, (value, dtype) in scalars.items():
        v[f"decoder/{name}"] = np.array(value, dtype)
    return v


def _alignment_heads(checkpoint: Path, dims) -> list[list[int]]:
    """openai-whisper's heads for a known model name (e.g. base.pt), else the upper half of the decoder."""
    import base64
    import gzip

    import whisper

    name = checkpoint.stem
    if name in whisper._ALIGNMENT_HEADS:
        raw = gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[name]))
        mask = np.frombuffer(raw, dtype=bool).reshape(dims.n_text_layer, dims.n_text_head)
        return [[int(a), int(b)] for a, b in np.argwhere(mask)]
    return [[layer, head] for layer in range(dims.n_text_layer // 2, dims.n_text_layer) for head in range(dims.n_text_head)]


def convert_openai_checkpoint(checkpoint: Path, dst: Path) -> Path:
    """Write dst/{model.bin, config.json, vocabulary.txt}; dst appears complete or not at all."""
    import torch
    import whisper.tokenizer
    from whisper.model import ModelDimensions

    ckpt = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    dims = ModelDimensions(**ckpt["dims"])
    state = {k: t.to(torch.float16).numpy() for k, t in ckpt["model_state_dict"].items() if t.is_floating_point()}
    multilingual = dims.n_vocab >= 51865
    num_languages = dims.n_vocab - 51765 - int(multilingual)
    tokenizer = whisper.tokenizer.get_tokenizer(multilingual, num_languages=num_languages)
    variables = _variables(state, dims.n_audio_layer, dims.n_text_layer, (dims.n_audio_head, dims.n_text_head))
    config = {
        "alignment_heads": _alignment_heads(checkpoint, dims),
        "lang_ids": list(tokenizer.all_language_tokens) if multilingual else [],
        "suppress_ids": sorted(tokenizer.non_speech_tokens),
        "suppress_ids_begin": [SPACE_TOKEN, tokenizer.eot],
    }
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dst.name + ".", dir=dst.parent))
    (tmp / "model.bin").write_bytes(write_ct2(variables, {"decoder/projection/weight": "decoder/embeddings/weight"},
                                              WHISPER_SPEC, WHISPER_SPEC_REVISION))
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "vocabulary.txt").write_text("\n".join(vocabulary(tokenizer, dims.n_vocab)) + "\n", encoding="utf-8")
    try:
        os.replace(tmp, dst)
    except OSError:  # another process converted it first
        if not (dst / "model.bin").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return dst
