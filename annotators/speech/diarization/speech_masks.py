"""Audio of one local speaker inside one chunk: its frames without overlapped speech (or all its frames
when too little is clean), as contiguous sample runs joined together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotators.speech.diarization.segmentation import LocalActivity

MIN_CLEAN_FRACTION = 0.5  # embed only the overlap-free frames when they keep at least this share


@dataclass(frozen=True)
class LocalSpeech:
    audio: np.ndarray  # samples to embed (capped)
    speech_s: float  # all frames of this local speaker
    clean_s: float  # frames where no other local speaker is active


def local_speaker_audio(samples: np.ndarray, sample_rate: int, local: LocalActivity, chunk: int, speaker: int,
                        max_speech_s: float) -> LocalSpeech | None:
    valid = int(local.valid_frames[chunk])
    act = local.activity[chunk, :valid]
    mask = act[:, speaker] > 0
    if not mask.any():
        return None
    clean = mask & (act.sum(axis=1) < 2)
    speech_s, clean_s = mask.sum() * local.frame_step_s, clean.sum() * local.frame_step_s
    chosen = clean if clean.sum() >= MIN_CLEAN_FRACTION * mask.sum() else mask
    start_s = local.chunk_starts_s[chunk] + local.frame_offset_s - local.frame_step_s / 2
    padded = np.concatenate([[False], chosen, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    pieces = []
    for a, b in zip(edges[::2], edges[1::2]):
        lo = max(0, int((start_s + a * local.frame_step_s) * sample_rate))
        hi = min(len(samples), int((start_s + b * local.frame_step_s) * sample_rate))
        if hi > lo:
            pieces.append(samples[lo:hi])
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return LocalSpeech(audio=audio[: int(max_speech_s * sample_rate)], speech_s=float(speech_s), clean_s=float(clean_s))
