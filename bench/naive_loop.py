"""The naive baseline: one process, no Ray. For each file: decode, segment, annotate each segment alone on
each of its branches, merge — the same stage functions and models the pipeline uses, one thing at a time.

    python bench/naive_loop.py pipeline.yaml --input DIR [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

log = logging.getLogger("naive_loop")


@dataclass
class NaiveStats:
    files: int = 0
    audio_s: float = 0.0
    load_s: float = 0.0  # loading every model once, before the first file
    decode_s: float = 0.0
    segment_s: float = 0.0
    model_s: dict[str, float] = field(default_factory=dict)  # inside annotator.annotate, per branch
    merge_s: float = 0.0
    loop_s: float = 0.0  # the file loop alone (without load_s)
    segments: dict[str, int] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return self.load_s + self.loop_s


def run_naive(cfg, threads: int) -> NaiveStats:
    import torch

    from merge.merger import merge_recordings
    from merge.outputs import RecordingOutputs
    from pipeline.manifest import read_inputs
    from pipeline.stages import annotate_batch, get_segmenter, make_annotator, prepare_recording, segment_audio, work_items

    torch.set_num_threads(threads)
    stats = NaiveStats()
    t0 = time.perf_counter()
    annotators = {name: make_annotator(branch) for name, branch in cfg.enabled_branches().items()}
    get_segmenter(cfg.segmentation)  # models load here, not inside the first file's timing
    stats.load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for item in read_inputs(cfg.input.path, cfg.input.extensions):
        prepared = prepare_recording(item, cfg.audio, cfg.segmentation)
        stats.files += 1
        stats.audio_s += prepared.recording.duration_s or 0.0
        stats.decode_s += prepared.timings.get("decode_s", 0.0)
        stats.segment_s += prepared.timings.get("segment_s", 0.0)
        if prepared.samples is None:
            continue
        rows: dict[str, list] = {}
        for name, annotator in annotators.items():
            rows[name] = []
            for w in work_items(prepared, name):
                seg = segment_audio(w, prepared.samples, cfg.audio.sample_rate, cfg.audio.segment_context_s)
                out = annotate_batch(annotator, [w], [seg], retries=0)
                rows[name].extend(out.rows)
                stats.model_s[name] = stats.model_s.get(name, 0.0) + out.model_s
                stats.segments[name] = stats.segments.get(name, 0) + 1
        t1 = time.perf_counter()
        sort = lambda r: sorted(r, key=lambda x: (x.start_s, x.end_s))  # noqa: E731
        outputs = RecordingOutputs(
            prepared.recording, prepared.segments, sort(rows.get("speech", [])), sort(rows.get("music", [])), sort(rows.get("sound", []))
        )
        merge_recordings([outputs], cfg.merge)
        stats.merge_s += time.perf_counter() - t1
    stats.loop_s = time.perf_counter() - t0
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--input", required=True, help="folder of audio files (overrides input.path)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", type=Path, help="write the stats here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from pipeline.config import load_config

    cfg = load_config(args.config, {"input.path": str(Path(args.input).resolve()), "output.path": "/tmp/naive-unused"})
    stats = run_naive(cfg, args.threads)
    report = {**asdict(stats), "wall_s": stats.wall_s, "threads": args.threads}
    log.info("%s", json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
