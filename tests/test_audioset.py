"""YAMNet adapter on real corpus audio: the packaged weights load and rank the right AudioSet classes."""

from __future__ import annotations

import numpy as np
import pytest

from annotators.audioset import labels
from annotators.audioset.yamnet import YamNet

SR = 16000


@pytest.fixture(scope="module")
def yamnet() -> YamNet:
    model = YamNet()
    model.setup()
    return model


def _top(model: YamNet, samples: np.ndarray, k: int) -> list[str]:
    _, scores = model.frame_scores(samples, SR)
    pooled = scores.max(axis=0)
    return [model.class_names[i] for i in np.argsort(-pooled)[:k]]


def _span(samples: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return samples[int(start_s * SR): int(end_s * SR)]


def test_class_map_and_shapes(yamnet):
    assert len(yamnet.class_names) == 521
    assert yamnet.class_names[0] == "Speech" and "Piano" in yamnet.class_names
    starts, scores = yamnet.frame_scores(np.zeros(SR * 3, dtype=np.float32), SR)
    assert scores.shape == (len(starts), 521) and scores.dtype == np.float32
    assert np.allclose(np.diff(starts), 0.48) and starts[0] == 0.0
    assert len(starts) == 6  # 0.96 s patches every 0.48 s cover 3 s (last one padded)
    assert 0.0 <= scores.min() and scores.max() <= 1.0


@pytest.mark.parametrize("n", [0, 1, 800])
def test_empty_and_short_audio_give_one_patch(yamnet, n):
    starts, scores = yamnet.frame_scores(np.zeros(n, dtype=np.float32), SR)
    assert starts.tolist() == [0.0] and scores.shape == (1, 521)


def test_other_sample_rate_and_finer_hop(yamnet, scene_audio):
    dog = _span(scene_audio("s05_sound_events"), 4.77, 5.70)
    import soxr

    dog_8k = soxr.resample(dog, SR, 8000).astype(np.float32)
    assert {"Dog", "Bark"} & set(_top(yamnet, dog_8k, 5)) or "Dog" in _top(yamnet, dog_8k, 8)
    starts, _ = yamnet.frame_scores(scene_audio("s05_sound_events")[: SR * 4], SR, hop_s=0.24)
    assert np.allclose(np.diff(starts), 0.24)


def test_dog_bark_ranks_dog(yamnet, scene_audio):
    top = _top(yamnet, _span(scene_audio("s05_sound_events"), 4.77, 5.70), 5)
    assert {"Dog", "Bark"} & set(top), top


def test_piano_ranks_piano_and_music(yamnet, scene_audio):
    top = _top(yamnet, _span(scene_audio("s03_piano_120bpm"), 3.0, 35.0), 8)
    assert "Music" in top[:3], top
    assert {"Piano", "Electric piano", "Keyboard (musical)"} & set(top), top


def test_speech_ranks_speech(yamnet, scene_audio):
    _, scores = yamnet.frame_scores(_span(scene_audio("s07_events_over_speech"), 0.0, 6.5), SR)
    speech = scores[:, labels.find(yamnet.class_names, "Speech")]
    assert np.median(speech) > 0.5
    assert "Speech" == yamnet.class_names[int(np.argmax(scores.mean(axis=0)))]


def test_label_groups_resolve(yamnet):
    names = yamnet.class_names
    assert labels.find(names, "piano") == names.index("Piano")
    assert names.index("Piano") in labels.instrument_indices(names)
    assert names.index("Jazz") in labels.genre_indices(names)
    assert names.index("Singing") in labels.singing_indices(names)
    events = set(labels.sound_event_indices(names))
    assert names.index("Bark") in events and names.index("Applause") in events
    assert names.index("Speech") not in events and names.index("Piano") not in events
    assert names.index("Silence") not in events and names.index("Bicycle bell") in events
    unknown = (labels.SPEECH | labels.MUSIC | labels.AMBIENCE | labels.BELLS) - set(names)
    assert not unknown, unknown  # every grouped name is a real class name


def test_user_paths_onnx_file_and_zip(tmp_path, yamnet, scene_audio):
    """A user's own export: a .onnx with its external data beside it, or a .zip; same scores as packaged."""
    import zipfile

    from annotators.audioset.yamnet import packaged_files

    zip_path, class_map = packaged_files()
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path)
    onnx_file = next(tmp_path.rglob("*.onnx"))
    dog = _span(scene_audio("s05_sound_events"), 4.0, 6.5)
    expected = yamnet.frame_scores(dog, SR)[1]
    for path, cmap in ((str(onnx_file), str(class_map)), (str(zip_path), None)):
        model = YamNet(model_path=path, class_map=cmap)
        model.setup()
        assert model.class_names == yamnet.class_names and model.model_id == path
        assert np.array_equal(model.frame_scores(dog, SR)[1], expected)
    with pytest.raises(FileNotFoundError):
        YamNet(model_path=str(tmp_path / "missing.onnx")).setup()


def test_exact_int8_is_asked_for_where_int8_kernels_saturate():
    from annotators.audioset.yamnet import int8_kernels_saturate

    assert int8_kernels_saturate("x86_64", {"avx", "avx2", "fma"})  # AVX2 only: u8 x s8 pairs saturate in int16
    assert not int8_kernels_saturate("x86_64", {"avx2", "avx512f", "avx512_vnni"})
    assert not int8_kernels_saturate("x86_64", {"avx2", "avx_vnni"})
    assert not int8_kernels_saturate("aarch64", set())  # other kernels there: onnxruntime's defaults stay
