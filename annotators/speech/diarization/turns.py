"""From per-chunk local speakers mapped to global speakers -> recording-level speaker turns.

Chunks overlap; as in pyannote's aggregation, each chunk's frames are weighted by a Hamming window so that
a chunk's edges (little context) count less than its centre, and each frame keeps as many speakers as the
weighted number of active local speakers says (most active first)."""

from __future__ import annotations

import numpy as np

from annotators.base import SpeakerTurn
from annotators.speech.diarization.segmentation import LocalActivity


def aggregate(local: LocalActivity, speaker_of: np.ndarray, num_speakers: int, duration_s: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """-> (activation (global frames, speakers) in [0, 1], speaker count per global frame).

    `speaker_of[c, k]` is the global speaker of chunk c's local speaker k, or -1 (not a kept speaker)."""
    n_frames = max(1, int(np.ceil(duration_s / local.frame_step_s)))
    weight = np.hamming(local.activity.shape[1])
    total = np.zeros((n_frames, max(num_speakers, 1)))
    count = np.zeros(n_frames)
    norm = np.zeros(n_frames)
    for c, start_s in enumerate(local.chunk_starts_s):
        valid = int(local.valid_frames[c])
        if valid == 0:
            continue
        first = int(round((start_s + local.frame_offset_s) / local.frame_step_s))
        idx = np.clip(np.arange(first, first + valid), 0, n_frames - 1)
        w = weight[:valid]
        chunk = np.zeros((valid, total.shape[1]))
        for k, spk in enumerate(speaker_of[c]):
            if spk >= 0:  # two local speakers on one global speaker: take the union, not the sum
                chunk[:, spk] = np.maximum(chunk[:, spk], local.activity[c, :valid, k])
        kept = speaker_of[c] >= 0
        np.add.at(total, idx, chunk * w[:, None])
        np.add.at(count, idx, local.activity[c, :valid][:, kept].sum(axis=1) * w)
        np.add.at(norm, idx, w)
    norm = np.maximum(norm, 1e-12)
    return total / norm[:, None], np.rint(count / norm).astype(int)


def binarize(activation: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per frame, the `count` most active speakers (among those with any activation)."""
    order = np.argsort(-activation, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(activation.shape[1])[None, :].repeat(len(order), 0), axis=1)
    return (rank < count[:, None]) & (activation > 0)


def _runs(active: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], active, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def active_to_turns(active: np.ndarray, frame_step_s: float, duration_s: float, min_duration_on_s: float,
                    min_duration_off_s: float) -> list[tuple[float, float, int]]:
    """Per speaker: fill gaps shorter than `min_duration_off_s`, drop turns shorter than
    `min_duration_on_s`. Frame i is centred on i * step and spans half a step each side."""
    turns = []
    for spk in range(active.shape[1]):
        spans = [(max(0.0, (a - 0.5) * frame_step_s), min(duration_s, (b - 0.5) * frame_step_s))
                 for a, b in _runs(active[:, spk])]
        merged: list[list[float]] = []
        for start, end in spans:
            if merged and start - merged[-1][1] < min_duration_off_s:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        turns += [(s, e, spk) for s, e in merged if e - s >= min_duration_on_s]
    return sorted(turns)


def label_turns(turns: list[tuple[float, float, int]]) -> list[SpeakerTurn]:
    """Cluster ids -> "S01", "S02", ... in order of first appearance."""
    names: dict[int, str] = {}
    out = []
    for start, end, spk in sorted(turns):
        names.setdefault(spk, f"S{len(names) + 1:02d}")
        out.append(SpeakerTurn(start_s=float(round(start, 3)), end_s=float(round(end, 3)), speaker=names[spk]))
    return out
