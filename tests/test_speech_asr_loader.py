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

