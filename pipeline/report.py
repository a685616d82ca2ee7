"""The run report (OUT/run.json) and progress hooks."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline.storage import Store, as_store
from schemas import SCHEMA_VERSION
from schemas.recordings import RecordingRow

VERSIONED_PACKAGES = ("moss-annotate", "torch", "ray", "openai-whisper", "pyannote.audio", "silero-vad", "librosa", "pyarrow", "onnxruntime")


class ProgressHook(Protocol):
    def start(self, total: int, already_done: int) -> None: ...
    def recording_done(self, recording: RecordingRow) -> None: ...
    def stop(self) -> None: ...


class NullProgress:
    def start(self, total: int, already_done: int) -> None:
        pass

    def recording_done(self, recording: RecordingRow) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class RunStats:
    recordings: dict[str, int] = field(default_factory=lambda: {"ok": 0, "error": 0, "empty": 0})
    shards_written: int = 0
    shards_skipped: int = 0
    segments: int = 0
    branch_items: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    startup_s: float = 0.0  # starting Ray and loading every model (the branch models load beside the first files)
    decode_s: float = 0.0
    segment_s: float = 0.0
    model_s: dict[str, float] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)
    # Nodes that did work: {node_id, address, cpus, gpus, workers: {kind: count}, tasks}
    nodes: list[dict] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # what this run (re)did per shard and why
    sft_tasks: dict[str, int] = field(default_factory=dict)  # SFT rows written per task (after balancing)

    def add_recording(self, rec: RecordingRow, timings: dict[str, float]) -> None:
        self.recordings[rec.status] = self.recordings.get(rec.status, 0) + 1
        self.audio_s += rec.duration_s or 0.0
        self.segments += rec.num_segments
        self.decode_s += timings.get("decode_s", 0.0)
        self.segment_s += timings.get("segment_s", 0.0)

    @property
    def realtime_factor(self) -> float | None:
        """Seconds of audio per wall second (higher is faster)."""
        return self.audio_s / self.wall_s if self.wall_s > 0 else None


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_run_report(out: Store | Path, config: dict, stats: RunStats) -> dict:
    report = {
        "schema_version": SCHEMA_VERSION,
        "config": config,
        "versions": package_versions(),
        "host": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "stats": asdict(stats),
        "realtime_factor": stats.realtime_factor,
    }
    as_store(out).write_bytes("run.json", data=json.dumps(report, indent=2, sort_keys=True).encode())
    return report
