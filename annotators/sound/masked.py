"""Sound events under speech or music: relative rises of a class while a masker dominates.

While speech (or music) is on, YAMNet pushes every other class down, so a dog barking over a voice rarely
reaches an absolute threshold. Its logit still jumps well above that class's own level over the segment.
Inside masker frames a class is active where its logit rises `rise_on` above its segment median (and above
an absolute floor), and stays active while it is `rise_off` above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotators.sound.detect import ClassSpan, _hysteresis

EPS = 1e-7


@dataclass(frozen=True)
class MaskedConfig:
    enabled: bool = False  # off by default: on the corpus it found one more event over speech, two false ones
    masker_threshold: float = 0.5  # frames where a masker class scores at least this
    rise_on: float = 7.0  # logit rise over the class's segment median that starts a span ...
    rise_off: float = 4.0  # ... and that keeps it going
    floor_logit: float = -4.0  # absolute floor (sigmoid ~0.018): a rise from nothing to nothing is noise
    min_frames: int = 8  # the segment median needs this many patches to mean anything
    merge_gap_frames: int = 1


def logits(scores: np.ndarray) -> np.ndarray:
    p = np.clip(scores.astype(np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def masked_spans(scores: np.ndarray, candidates: Sequence[int], maskers: Sequence[int], cfg: MaskedConfig
                 ) -> list[ClassSpan]:
    if not cfg.enabled or scores.shape[0] < cfg.min_frames or not len(maskers) or not len(candidates):
        return []
    masked = scores[:, list(maskers)].max(axis=1) >= cfg.masker_threshold
    if not masked.any():
        return []
    cand = np.asarray(candidates)
    lg = logits(scores[:, cand])
    rise = lg - np.median(lg, axis=0)
    track = np.where(masked[:, None] & (lg >= cfg.floor_logit), rise, -np.inf)
    spans = []
    for j in np.flatnonzero(track.max(axis=0) >= cfg.rise_on):
        for a, b in _hysteresis(track[:, j], cfg.rise_on, cfg.rise_off, cfg.merge_gap_frames):
            seg = scores[a: b + 1, cand[j]]
            spans.append(ClassSpan(int(cand[j]), a, b, float(seg.max()), float(seg.mean()), weak=True))
    return spans
