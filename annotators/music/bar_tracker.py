"""Beats, downbeats and meter from beat / downbeat activations: a bar-pointer HMM decoded by Viterbi.

The model of Krebs, Böck & Widmer (ISMIR 2015) as madmom's DBNDownBeatTrackingProcessor implements it
(the decoder BeatNet uses offline), written here in numpy. For each bar length B (beats per bar) and each
beat interval tau (frames per beat, every integer between the fastest and slowest tempo), a state is a
position inside the bar. The position advances one frame per frame; only where a beat ends may the
tempo change, with probability ~ exp(-lambda |tau'/tau - 1|). A state in the first 1/obs_lambda of a beat
emits the downbeat activation (first beat of the bar) or the beat activation (other beats); any other
state emits (1 - beat - downbeat) / (obs_lambda - 1). Each bar length is decoded on its own; the most likely
one gives the meter. Beats are then moved to the activation peak inside each beat's states (madmom's
`correct`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TINY = 1e-12


@dataclass(frozen=True)
class BarTrackerConfig:
    fps: float = 50.0
    min_bpm: float = 55.0
    max_bpm: float = 215.0
    beats_per_bar: tuple[int, ...] = (3, 4)
    transition_lambda: float = 100.0
    observation_lambda: float = 16.0


@dataclass(frozen=True)
class BarTrack:
    beats_s: np.ndarray  # beat times (seconds from the first frame)
    beat_numbers: np.ndarray  # 1 = downbeat
    beats_per_bar: int
    log_probability: float  # of the best path, per frame


def intervals(cfg: BarTrackerConfig) -> np.ndarray:
    lo = int(np.round(60.0 * cfg.fps / cfg.max_bpm))
    hi = int(np.round(60.0 * cfg.fps / cfg.min_bpm))
    return np.arange(lo, hi + 1)


def tempo_transitions(taus: np.ndarray, lam: float) -> np.ndarray:
    """log P(tau' | tau) at a beat boundary: [from, to], rows normalised."""
    ratio = taus[None, :] / taus[:, None]
    prob = np.exp(-lam * np.abs(ratio - 1.0))
    prob[prob <= np.spacing(1)] = 0.0
    prob /= prob.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(prob)


def _decode_bar(act: np.ndarray, taus: np.ndarray, bar: int, cfg: BarTrackerConfig) -> tuple[float, np.ndarray]:
    """Viterbi over one bar length. Returns (log probability, per frame of the best path: beat in the bar,
    position in the beat, emission kind (2 downbeat, 1 beat, 0 neither)))."""
    n_frames, n_tempi = len(act), len(taus)
    offsets = np.concatenate([[0], np.cumsum(taus)[:-1]])  # start of each tempo's block within one beat slab
    slab = int(taus.sum())  # states of one beat (all tempi)
    n_states = bar * slab
    beat_of = np.repeat(np.arange(bar), slab)
    pos_in_slab = np.tile(np.concatenate([np.arange(t) for t in taus]), bar)
    tau_of = np.tile(np.repeat(taus, taus), bar)
    tempo_of = np.tile(np.repeat(np.arange(n_tempi), taus), bar)
    first = np.zeros(n_states, bool)
    for b in range(bar):
        first[b * slab + offsets] = True
    last_idx = np.array([[b * slab + offsets[k] + taus[k] - 1 for k in range(n_tempi)] for b in range(bar)])
    first_idx = np.array([[b * slab + offsets[k] for k in range(n_tempi)] for b in range(bar)])
    # emission classes: 2 downbeat, 1 beat, 0 neither
    in_beat = pos_in_slab < tau_of / cfg.observation_lambda
    kind = np.where(in_beat, np.where(beat_of == 0, 2, 1), 0)
    beat, down = act[:, 0].astype(np.float64), act[:, 1].astype(np.float64)
    none = np.maximum((1.0 - beat - down) / (cfg.observation_lambda - 1.0), TINY)
    log_obs = np.log(np.stack([none, np.maximum(beat, TINY), np.maximum(down, TINY)], axis=1))  # [T, 3]
    log_trans = tempo_transitions(taus, cfg.transition_lambda)
    delta = np.full(n_states, -np.log(n_states)) + log_obs[0, kind]
    back = np.zeros((n_frames, bar, n_tempi), np.int16)  # best previous tempo for each (beat, tempo) start
    shift = np.empty(n_states)
    for t in range(1, n_frames):
        shift[1:] = delta[:-1]  # advance one position (valid except at block starts, set below)
        for b in range(bar):
            prev = last_idx[(b - 1) % bar]
            cand = delta[prev][:, None] + log_trans  # [from tempo, to tempo]
            best = np.argmax(cand, axis=0)
            back[t, b] = best
            shift[first_idx[b]] = cand[best, np.arange(n_tempi)]
        delta = shift + log_obs[t, kind]
    state = int(np.argmax(delta))
    log_p = float(delta[state])
    path = np.empty(n_frames, np.int64)
    for t in range(n_frames - 1, -1, -1):
        path[t] = state
        if t == 0:
            break
        if first[state]:
            b, k = int(beat_of[state]), int(tempo_of[state])
            state = int(last_idx[(b - 1) % bar][back[t, b, k]])
        else:
            state -= 1
    return log_p, np.stack([beat_of[path], pos_in_slab[path], kind[path]], axis=1)


def track(act: np.ndarray, cfg: BarTrackerConfig = BarTrackerConfig()) -> BarTrack | None:
    """Beats of [frames, 2] (beat, downbeat) activations; None when there are too few frames to decode."""
    act = np.clip(np.asarray(act, np.float64), 0.0, 1.0)
    taus = intervals(cfg)
    if len(act) < 2 * taus.max():
        return None
    best = None
    for bar in cfg.beats_per_bar:
        log_p, path = _decode_bar(act, taus, bar, cfg)
        if best is None or log_p > best[0]:
            best = (log_p, path, bar)
    log_p, path, bar = best
    in_beat = path[:, 2] >= 1
    edges = np.flatnonzero(np.diff(in_beat.astype(np.int8))) + 1
    if in_beat[0]:
        edges = np.r_[0, edges]
    if in_beat[-1]:
        edges = np.r_[edges, len(in_beat)]
    frames, numbers = [], []
    strength = act.max(axis=1)
    for left, right in edges.reshape(-1, 2):
        peak = left + int(np.argmax(strength[left:right]))
        frames.append(peak)
        numbers.append(int(path[peak, 0]) + 1)
    return BarTrack(np.asarray(frames, np.float64) / cfg.fps, np.asarray(numbers, np.int64), bar,
                    log_p / len(act))
