"""GE2E speaker encoder (Resemblyzer's weights) re-implemented without the resemblyzer package.

Resemblyzer's own import pulls webrtcvad -> pkg_resources; the network itself is tiny: a 3-layer LSTM over
40 power-mel bands (25 ms window, 10 ms hop, 16 kHz), a linear layer, ReLU and L2 norm. Utterance embeddings
average the embeddings of 1.6 s partial windows, as `VoiceEncoder.embed_utterance` does.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGED_EMBEDDING = "pkg:resemblyzer"
SAMPLE_RATE = 16000
N_MELS = 40
WINDOW_MS = 25
HOP_MS = 10
HIDDEN = 256
EMBEDDING_DIM = 256
NUM_LAYERS = 3
PARTIAL_FRAMES = 160  # 1.6 s: the length GE2E was trained on
LAST_PARTIAL_MIN_COVERAGE = 0.75  # Resemblyzer keeps a zero-padded last partial above this coverage
NORM_TARGET_DBFS = -30.0  # Resemblyzer raises quiet audio to this level (never lowers it)
EMBED_BATCH = 256  # partials per network call: memory stays flat however long the recording

_CACHE: dict[tuple[str, str], "SpeakerEmbedder"] = {}
_LOCK = threading.Lock()


def packaged_weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the packaged speaker embedding needs `pip install Resemblyzer==0.1.4` (extra: models)")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


def _build_network():
    import torch
    from torch import nn

    class GE2EEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, HIDDEN, NUM_LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, EMBEDDING_DIM)

        def forward(self, mels: torch.Tensor) -> torch.Tensor:  # (batch, frames, mels) -> (batch, dim)
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-12)

    return GE2EEncoder()


@dataclass
class SpeakerEmbedder:
    """Utterance -> unit-norm 256-d voice embedding. Load with `load_speaker_embedder`."""

    network: object
    mel_basis: object  # torch (n_mels, n_fft // 2 + 1)
    window: object
    device: str
    source: str

    def mels(self, samples: np.ndarray):
        """Power mel spectrogram, (frames, 40), as librosa.feature.melspectrogram computes it."""
        import torch

        n_fft = SAMPLE_RATE * WINDOW_MS // 1000
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.device)
        spec = torch.stft(x, n_fft, SAMPLE_RATE * HOP_MS // 1000, window=self.window, center=True,
                          pad_mode="constant", return_complex=True).abs() ** 2
        return (self.mel_basis @ spec).T

    def embed(self, utterances: list[np.ndarray]) -> np.ndarray:
        """One embedding per utterance (float32 16 kHz), shape (n, 256)."""
        import torch

        if not utterances:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        partials, owner = [], []
        for i, wav in enumerate(utterances):
            for part in _partials(self.mels(_normalize_volume(wav))):
                partials.append(part)
                owner.append(i)
        with torch.inference_mode():  # in fixed batches: an hour of speech is thousands of partials
            emb = np.concatenate(
                [self.network(torch.stack(partials[a : a + EMBED_BATCH])).cpu().numpy() for a in range(0, len(partials), EMBED_BATCH)]
            )
        out = np.zeros((len(utterances), EMBEDDING_DIM), dtype=np.float32)
        np.add.at(out, np.asarray(owner), emb)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _normalize_volume(wav: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 0:
        return wav
    gain_db = NORM_TARGET_DBFS - 20 * np.log10(rms)
    return wav * (10 ** (gain_db / 20)) if gain_db > 0 else wav


def _partials(mels):
    """Non-overlapping 1.6 s partials (the last one zero-padded if it covers enough), at least one."""
    import torch

    n = mels.shape[0]
    parts = []
    for start in range(0, max(n, 1), PARTIAL_FRAMES):
        piece = mels[start : start + PARTIAL_FRAMES]
        if parts and piece.shape[0] < LAST_PARTIAL_MIN_COVERAGE * PARTIAL_FRAMES:
            break
        if piece.shape[0] < PARTIAL_FRAMES:
            piece = torch.nn.functional.pad(piece, (0, 0, 0, PARTIAL_FRAMES - piece.shape[0]))
        parts.append(piece)
    return parts


def _read_state_dict(path: Path) -> dict:
    import torch

    checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
    state = checkpoint.get("model_state", checkpoint)
    return {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}  # drops GE2E loss scalars


def load_speaker_embedder(source: str = PACKAGED_EMBEDDING, device: str = "cpu") -> SpeakerEmbedder:
    """`pkg:resemblyzer` (the weights inside the Resemblyzer wheel) or a local GE2E checkpoint path.
    Cached per process and device."""
    with _LOCK:
        key = (source, device)
        if key not in _CACHE:
            _CACHE[key] = _load(source, device)
        return _CACHE[key]


def _load(source: str, device: str) -> SpeakerEmbedder:
    import librosa
    import torch

    path = packaged_weights_path() if source == PACKAGED_EMBEDDING else Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"speaker embedding weights not found: {source!r} (expected {PACKAGED_EMBEDDING!r} or a .pt path)")
    network = _build_network()
    network.load_state_dict(_read_state_dict(path))
    network.eval().to(device)
    n_fft = SAMPLE_RATE * WINDOW_MS // 1000
    mel_basis = torch.from_numpy(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=n_fft, n_mels=N_MELS)).to(device)
    window = torch.hann_window(n_fft, periodic=True, device=device)
    log.info("loaded GE2E speaker encoder from %s on %s", path, device)
    return SpeakerEmbedder(network=network, mel_basis=mel_basis, window=window, device=device, source=source)
