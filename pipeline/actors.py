"""Ray wrappers around the stage logic: long-lived decode+segment, branch and merge actors."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from pipeline.config import AudioConfig, BranchConfig, SegmentationConfig
from pipeline.manifest import InputItem
from pipeline.stages import (
    BatchOutcome, WorkItem, annotate_batch, decode_recording, get_segmenter, make_annotator, prepare_recording, segment_audio,
)

log = logging.getLogger(__name__)


def worker_logging(level: int) -> None:
    """Workers log warnings (one line per bad file); with the driver at debug level, debug and tracebacks too."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def set_threads(cpus: float) -> None:
    """Match torch's intra-op threads to the CPUs this worker was given (default would be every core)."""
    try:
        import torch

        torch.set_num_threads(max(1, math.floor(cpus)))
    except ImportError:
        pass


class PrepareWorker:
    """Decode + segment in a long-lived process, so the segmenter's models load once. (As plain tasks, Ray
    recycled the worker processes and every new one reloaded the segmenter: ~45% of the time on short files.)"""

    def __init__(self, audio_cfg: AudioConfig, seg_cfg: SegmentationConfig, cpus: float, device: str,
                 log_level: int = logging.WARNING, load_segmenter: bool = True, storage_options: dict | None = None):
        worker_logging(log_level)
        self.audio_cfg, self.seg_cfg, self.device, self.cpus = audio_cfg, seg_cfg, device, cpus
        self.storage_options = storage_options  # each worker fetches its own inputs from an object store
        if load_segmenter:  # now: a broken segmenter stops the run at start, not per file
            self._segmenter()

    def _segmenter(self):
        # torch (its threads) and the segmenter's models only where segmentation runs: a decode-only worker
        # (a partial redo) starts in a fraction of the time and leaves the CPUs to the models that load.
        set_threads(self.cpus)
        return get_segmenter(self.seg_cfg, self.device)

    def ready(self) -> str:
        """The node this worker runs on (for run.json's per-node report)."""
        return _node_id()

    def prepare(self, item: InputItem):
        """Returns (metadata without samples, samples): two objects, so the driver never fetches the audio."""
        self._segmenter()
        return _split(prepare_recording(item, self.audio_cfg, self.seg_cfg, self.device, self.storage_options))

    def decode(self, item: InputItem):
        """Decode only (a redo of branches that need no segmentation): the same two objects as `prepare`."""
        return _split(decode_recording(item, self.audio_cfg, self.storage_options))


def _split(prepared):
    samples = prepared.samples if prepared.samples is not None else np.zeros(0, np.float32)
    prepared.samples = None
    return prepared, samples


@dataclass(frozen=True)
class AudioRef:
    recording_id: str
    ref: object  # ray.ObjectRef of the recording's samples (16 kHz float32)


class BranchWorker:
    """One model, loaded once, annotating batches of segments from any recordings."""

    def __init__(self, branch: BranchConfig, cpus: float, device: str, audio: AudioConfig, retries: int,
                 log_level: int = logging.WARNING):
        worker_logging(log_level)
        set_threads(cpus)
        self.annotator = make_annotator(branch, device)
        self.sample_rate = audio.sample_rate
        self.context_s = audio.segment_context_s
        self.retries = retries

    def model_info(self) -> tuple[str, str | None, str]:
        """(model id, model version, node this worker runs on)."""
        return self.annotator.model_id, self.annotator.model_version, _node_id()

    def annotate(self, items: list[WorkItem], audio_refs: list[AudioRef]) -> BatchOutcome:
        import ray

        unique = {a.recording_id: a.ref for a in audio_refs}
        arrays = dict(zip(unique, ray.get(list(unique.values()))))
        audio = [segment_audio(it, arrays[it.recording_id], self.sample_rate, self.context_s) for it in items]
        return annotate_batch(self.annotator, items, audio, self.retries)


class MergeWorker:
    """Shard merges in one long-lived process (as plain tasks, each merge started a fresh worker process)."""

    def __init__(self, merge_cfg, log_level: int = logging.WARNING):
        worker_logging(log_level)
        self.merge_cfg = merge_cfg

    def merge(self, outputs: list) -> list:
        return merge_shard(outputs, self.merge_cfg)


def merge_shard(outputs: list, merge_cfg) -> list:
    """Merge a shard in one batched call (an LLM rewriter overlaps its requests); if that fails, merge each
    recording alone so that one bad recording costs only its own caption: its slot holds the error."""
    from merge.merger import merge_recordings

    try:
        return merge_recordings(outputs, merge_cfg)
    except Exception as batch_error:
        log.warning("merging %d recordings failed (%s); merging one by one", len(outputs), batch_error)
    results = []
    for out in outputs:
        try:
            results.extend(merge_recordings([out], merge_cfg))
        except Exception as e:
            results.append(e)
    return results
