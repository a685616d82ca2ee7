"""BeatNet's beat / downbeat activation network (a small CRNN), loading the weights its PyPI wheel ships.

Architecture as in BeatNet 1.1.3 (`BeatNet/model.py`, Heydari, Cwitkowitz & Duan, ISMIR 2021; code and
weights CC BY 4.0): per frame a 1-D convolution over the 272 features (2 kernels of 10, ReLU, max-pool 2),
a linear layer to 150, a 2-layer unidirectional LSTM of 150 cells over time, and a linear layer to three
classes (beat, downbeat, no beat) with a softmax. Layer names match the weight files'. Unlike the original,
the LSTM state starts at zero for every call (the original keeps it between calls, so a second file's
activations depended on the first).

Weights: `scripts/fetch_models.py beatnet` unpacks `model_{1,2,3}_weights.pt` from the `BeatNet==1.1.3`
wheel (no code of that package is installed: it imports madmom and pyaudio at module level). Model 1 is
BeatNet's default (trained without GTZAN), 2 without Ballroom, 3 without the Rock corpus.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

FEATURES = 272
CELLS = 150
LAYERS = 2
CONV_OUT = 150
KERNEL = 10
WEIGHTS_ENV = "MOSS_BEATNET_DIR"


def weights_dir() -> Path:
    """Where `scripts/fetch_models.py` put the weight files: $MOSS_BEATNET_DIR, else <venv>/models/beatnet."""
    return Path(os.environ.get(WEIGHTS_ENV) or Path(sys.prefix) / "models" / "beatnet")


def resolve_weights(spec: str | None) -> Path:
    """A weight file from a model number ("1", "2", "3"), a path, or None (model 1)."""
    spec = spec or "1"
    path = weights_dir() / f"model_{spec}_weights.pt" if spec in ("1", "2", "3") else Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"BeatNet weights not found at {path}: run `python scripts/fetch_models.py beatnet` "
                                f"(it unpacks them from the BeatNet wheel on PyPI) or set {WEIGHTS_ENV}")
    return path


def _build():
    import torch
    from torch import nn

    class BeatActivationNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(1, 2, KERNEL)
            self.linear0 = nn.Linear(2 * ((FEATURES - KERNEL + 1) // 2), CONV_OUT)
            self.lstm = nn.LSTM(input_size=CONV_OUT, hidden_size=CELLS, num_layers=LAYERS, batch_first=True)
            self.linear = nn.Linear(CELLS, 3)

        def forward(self, feats: torch.Tensor) -> torch.Tensor:
            """[batch, frames, 272] -> [batch, frames, 3] class probabilities."""
            b, t, _ = feats.shape
            x = feats.reshape(b * t, 1, FEATURES)
            x = nn.functional.max_pool1d(nn.functional.relu(self.conv1(x)), 2)
            x = self.linear0(x.reshape(b * t, -1)).reshape(b, t, CONV_OUT)
            zeros = torch.zeros(LAYERS, b, CELLS, dtype=x.dtype, device=x.device)
            x, _ = self.lstm(x, (zeros, zeros))
            return torch.softmax(self.linear(x), dim=-1)

    return BeatActivationNet


class BeatActivations:
    """Loaded once per worker; `__call__` gives [frames, 2] beat and downbeat probabilities at 50 fps."""

    def __init__(self, weights: str | None = None, device: str = "cpu"):
        import torch

        self.path = resolve_weights(weights)
        self.device = device
        self.net = _build()()
        state = torch.load(self.path, map_location=device, weights_only=True)
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        needed = [k for k in missing if not k.startswith(("hidden", "cell"))]
        if needed:
            raise ValueError(f"{self.path} is not a BeatNet weight file (missing {needed[:3]})")
        self.net.to(device).eval()

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        import torch

        if len(feats) == 0:
            return np.zeros((0, 2), np.float32)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(feats, np.float32))[None].to(self.device)
            probs = self.net(x)[0, :, :2]
        return probs.cpu().numpy().astype(np.float32)
