"""Fuse the evidence into per-frame kind masks (speech / music / sound) and cut where the set of kinds changes.

Frame grid: the acoustic frames (20 ms). Speech comes from silero-vad (precise edges); music and sound from
the class profile (0.96 s patches, so their edges are moved onto activity edges and acoustic onsets);
activity that neither speech nor music explains is a sound, and so is whatever fills the dips of speech
(`overlap.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from segmenters.acoustic import ActivityRule, band_activity, strongest_onset
from segmenters.energy import runs
from segmenters.evidence import Evidence
from segmenters.overlap import OverlapParams, filled_dips
from segmenters.spans import join_reasons

KINDS = ("speech", "music", "sound")
ON_REASON = {"speech": "speech_onset", "music": "music_start", "sound": "sound_onset"}
OFF_REASON = {"speech": "speech_offset", "music": "music_stop", "sound": "sound_offset"}


class FusionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    close_gap_s: float = Field(0.25, ge=0, description="quiet gaps shorter than this inside activity are filled")
    close_tagged_gap_s: float = Field(1.2, ge=0, description="longer gaps up to this are filled where the tagger hears no silence")
    silence_score: float = Field(0.5, gt=0, lt=1, description="tagger Silence score that means a real pause")
    min_active_s: float = Field(0.08, ge=0, description="shorter bursts of activity are ignored")
    speech_gap_s: float = Field(0.45, ge=0, description="pauses shorter than this stay inside one speech event")
    speech_lag_s: float = Field(0.5, ge=0, description="untagged activity this short right before or after "
                                "speech is the speech (VAD edges lag), not a sound")
    speech_in_music_score: float = Field(0.3, gt=0, lt=1, description="inside music, VAD speech needs this "
                                         "class-profile speech score (and more than singing), else it is the music")
    music_threshold: float = Field(0.5, gt=0, lt=1, description="class-profile score that means music")
    music_low: float = Field(0.15, gt=0, lt=1, description="music found by music_threshold extends while the "
                             "score (smoothed) stays above this; under speech, a mean above this is a music bed")
    music_smooth_s: float = Field(1.5, gt=0, description="moving average of the music score before music_low")
    music_gap_s: float = Field(1.0, ge=0, description="quieter gaps up to this inside music are still music")
    min_music_s: float = Field(1.5, ge=0, description="shorter music runs are not music (a tonal sound)")
    sound_threshold: float = Field(0.3, gt=0, lt=1, description="class-profile score of a sound beside music")
    sound_over_speech_threshold: float = Field(0.45, gt=0, lt=1, description="the same, where VAD hears speech")
    min_sound_s: float = Field(0.15, ge=0, description="shorter sound runs are dropped")
    bed_floor_dbfs: float = Field(-45.0, description="a recording whose floor (10th-percentile level) is louder "
                                  "than this has a background bed: the floor itself is a sound")
    bed_margin_db: float = Field(6.0, ge=0, description="bed frames: within this of the floor; under speech, "
                                 "a bed on both sides continues if the speech's own floor is within this of it")
    bed_edge_s: float = Field(0.3, gt=0, description="how close to a speech region the bed must sound")
    bed_window_s: float = Field(1.0, gt=0, description="window of the running floor that follows a bed under speech")
    min_state_s: float = Field(0.3, ge=0, description="a change of kinds lasting less than this is smoothed away")
    refine_s: float = Field(0.4, ge=0, description="profile-based onsets move to an acoustic onset this close")
    activity: ActivityRule = ActivityRule()
    overlap: OverlapParams = OverlapParams()


@dataclass(frozen=True)
class KindPiece:
    """A stretch with one constant set of active kinds."""

    start_s: float
    end_s: float
    kinds: frozenset[str]
    start_reason: str
    end_reason: str


@dataclass(frozen=True)
class Masks:
    hop_s: float
    active: np.ndarray
    speech: np.ndarray
    music: np.ndarray
    sound: np.ndarray
    foreground: np.ndarray  # sound events, without a background bed: their edges cut even inside a bed

    def of(self, kind: str) -> np.ndarray:
        return getattr(self, kind)


def frames(seconds: float, hop_s: float) -> int:
    return max(0, int(round(seconds / hop_s)))


def fill_short(mask: np.ndarray, value: bool, max_len: int, where: np.ndarray | None = None) -> np.ndarray:
    """Runs equal to `value` shorter than max_len flip (a False run only between two True runs);
    with `where`, only runs lying entirely where it is True."""
    out = mask.copy()
    for a, b in runs(mask == value):
        inner = value or (a > 0 and b < len(mask))
        if b - a < max_len and inner and (where is None or where[a:b].all()):
            out[a:b] = not value
    return out


def _spans_mask(spans: list[tuple[float, float]], n: int, hop_s: float) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for s, e in spans:
        m[frames(s, hop_s) : frames(e, hop_s)] = True
    return m


def _grid_times(n: int, hop_s: float) -> np.ndarray:
    return np.arange(n) * hop_s


def _profile_on_grid(ev: Evidence, values: np.ndarray, n: int) -> np.ndarray:
    return ev.profile.on_grid(values, _grid_times(n, ev.acoustic.hop_s))


def activity(ev: Evidence, speech: np.ndarray, p: FusionParams) -> np.ndarray:
    hop = ev.acoustic.hop_s
    active = band_activity(ev.acoustic, p.activity)
    active = fill_short(active, False, frames(p.close_gap_s, hop))
    if ev.profile is not None:  # ticks, drips: bursts the tagger hears as one sound (never next to speech)
        not_silent = _profile_on_grid(ev, ev.profile.silence, len(active)) < p.silence_score
        away_from_speech = ~_grow(speech, frames(p.close_tagged_gap_s, hop))
        active = fill_short(active, False, frames(p.close_tagged_gap_s, hop), where=not_silent & away_from_speech)
    return fill_short(active, True, frames(p.min_active_s, hop))


def _grow(mask: np.ndarray, by: int) -> np.ndarray:
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, iterations=by) if by > 0 and mask.any() else mask


def speech_mask(ev: Evidence, n: int, p: FusionParams) -> np.ndarray:
    m = _spans_mask(ev.speech_regions, n, ev.acoustic.hop_s)
    m = fill_short(m, False, frames(p.speech_gap_s, ev.acoustic.hop_s))
    return _drop_music_voices(m, ev, p) if ev.profile is not None else m


def _drop_music_voices(m: np.ndarray, ev: Evidence, p: FusionParams) -> np.ndarray:
    """VAD also fires on singing and on voice-like instruments: inside music, a region the class profile
    does not hear as speech (or hears as singing rather than speech) is left to the music."""
    hop, out = ev.acoustic.hop_s, m.copy()
    for a, b in runs(m):
        w = ev.profile.window(a * hop, b * hop)
        music = ev.profile.branch_score("music")[w].mean()
        speech = ev.profile.coarse_of("speech")[w].mean()
        singing = ev.profile.coarse_of("singing")[w].mean()
        if music >= p.music_threshold and (speech < p.speech_in_music_score or speech < singing):
            out[a:b] = False
    return out


def music_mask(ev: Evidence, active: np.ndarray, speech: np.ndarray, p: FusionParams) -> np.ndarray:
    """Hysteresis on the class profile's music score (quiet or busy music dips below the threshold),
    plus music beds under speech (a speech region whose mean music score stays above music_low)."""
    n, hop = len(active), ev.acoustic.hop_s
    if ev.profile is None:
        return np.zeros(n, dtype=bool)
    score = _profile_on_grid(ev, ev.profile.branch_score("music"), n)
    leading = score >= _profile_on_grid(ev, ev.profile.branch_score("sound"), n)
    smooth = _moving_average(score, frames(p.music_smooth_s, hop))
    # extension stops at speech (music under speech is the bed test's call) and where a sound leads
    m = _hysteresis(score >= p.music_threshold, (smooth >= p.music_low) & leading & ~speech)
    edge = frames(ev.profile.patch_s, hop)  # patches at a region's edges also hear its neighbours
    for a, b in runs(speech):
        core = score[a + edge : b - edge]
        if len(core) and core.mean() >= p.music_low:
            m[a:b] = True
    m = fill_short(m, False, frames(ev.profile.patch_s, hop))
    m = fill_short(m, True, frames(p.min_music_s, hop))
    m = _snap_to_activity(m, active & ~speech | m, frames(ev.profile.patch_s / 2, hop)) & active
    return fill_short(m, False, frames(p.music_gap_s, hop))  # rests and quiet bars stay inside the music


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    width = max(1, min(width, len(x)))
    return np.convolve(x, np.ones(width) / width, mode="same")[: len(x)] if len(x) else x


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Runs of `weak` that contain some `strong` frame."""
    out = np.zeros(len(strong), dtype=bool)
    for a, b in runs(weak | strong):
        if strong[a:b].any():
            out[a:b] = True
    return out


def _snap_to_activity(m: np.ndarray, active: np.ndarray, reach: int) -> np.ndarray:
    """Profile runs are blurred by the patch length: grow each run to the edges of the activity it sits in
    (at most `reach` frames), then keep only its active frames."""
    out = m.copy()
    for a, b in runs(m):
        lo = a
        while lo > 0 and a - lo < reach and active[lo - 1]:
            lo -= 1
        hi = b
        while hi < len(m) and hi - b < reach and active[hi]:
            hi += 1
        out[lo:hi] = True
    return out & active


def extend_speech(speech: np.ndarray, active: np.ndarray, music: np.ndarray, ev: Evidence, p: FusionParams) -> np.ndarray:
    """Short untagged activity touching speech belongs to it (VAD onsets and offsets lag a little)."""
    n, hop = len(speech), ev.acoustic.hop_s
    tagged = np.zeros(n, dtype=bool)
    if ev.profile is not None:
        tagged = _profile_on_grid(ev, ev.profile.branch_score("sound"), n) >= p.sound_threshold
    out = speech.copy()
    for a, b in runs(active & ~speech & ~music):
        touches = (a > 0 and speech[a - 1]) or (b < n and speech[b])
        if touches and (b - a) * hop <= p.speech_lag_s and not tagged[a:b].any():
            out[a:b] = True
    return out


def sound_mask(ev: Evidence, active: np.ndarray, speech: np.ndarray, music: np.ndarray, p: FusionParams
               ) -> tuple[np.ndarray, np.ndarray]:
    """(every sound, foreground sound events only: without a background bed)."""
    n, hop = len(active), ev.acoustic.hop_s
    sound = active & ~speech & ~music
    if ev.profile is not None:
        score = _profile_on_grid(ev, ev.profile.branch_score("sound"), n)
        threshold = np.where(speech, p.sound_over_speech_threshold, p.sound_threshold)
        sound |= _refine_onsets((score >= threshold) & active, ev, p) & active
    sound |= filled_dips(ev.acoustic, speech, p.overlap) & active
    foreground = fill_short(sound, True, frames(p.min_sound_s, hop))
    sound = fill_short(sound | background_bed(ev, n, p), True, frames(p.min_sound_s, hop))
    return bed_under_speech(sound, speech, _level_dbfs(ev, n), p, hop), foreground


def _level_dbfs(ev: Evidence, n: int) -> np.ndarray:
    db = ev.energy.db[:n]
    return np.pad(db, (0, n - len(db)), mode="edge") if 0 < len(db) < n else (db if len(db) else np.full(n, -120.0))


def background_bed(ev: Evidence, n: int, p: FusionParams) -> np.ndarray:
    """A floor far above room tone is a background sound (rain, traffic, a crowd) under everything."""
    level = _level_dbfs(ev, n)
    if n == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(level, p.activity.floor_percentile))
    if floor <= p.bed_floor_dbfs:
        return np.zeros(n, dtype=bool)
    return level >= floor - p.bed_margin_db


def bed_under_speech(sound: np.ndarray, speech: np.ndarray, level: np.ndarray, p: FusionParams, hop: float) -> np.ndarray:
    """A sound heard right before or after a speech region goes on beneath it for as long as the speech's
    quietest moments (between words; running low percentile) stay about as loud as that sound."""
    from scipy.ndimage import percentile_filter

    out, edge = sound.copy(), max(1, frames(p.bed_edge_s, hop))
    if not (sound.any() and speech.any()):
        return out
    floor = percentile_filter(level, p.activity.floor_percentile, size=max(1, frames(p.bed_window_s, hop)))
    for a, b in runs(speech):
        before, after = sound[max(0, a - edge) : a], sound[b : b + edge]
        sides = [lv[m] for lv, m in ((level[max(0, a - edge) : a], before), (level[b : b + edge], after)) if len(m) and m.mean() > 0.5]
        if not sides:
            continue
        under = floor[a:b] >= np.median(np.concatenate(sides)) - p.bed_margin_db
        for r0, r1 in runs(under):
            if r0 == 0 or r1 == b - a:  # the bed runs in from an edge where it was heard
                out[a + r0 : a + r1] = True
    return out


def _refine_onsets(m: np.ndarray, ev: Evidence, p: FusionParams) -> np.ndarray:
    """Move each run's onset to the strongest acoustic onset within refine_s."""
    if not m.any():
        return m
    hop = ev.acoustic.hop_s
    out = np.zeros_like(m)
    for a, b in runs(m):
        onset = strongest_onset(ev.acoustic, a * hop, p.refine_s)
        a2 = frames(onset, hop) if onset is not None else a
        out[min(a2, b - 1) : b] = True
    return out


def build_masks(ev: Evidence, p: FusionParams) -> Masks:
    if ev.acoustic is None:
        raise ValueError("fusion needs the acoustic evidence (its frames are the grid)")
    speech = speech_mask(ev, len(ev.acoustic.onset), p)
    active = activity(ev, speech, p)
    music = music_mask(ev, active, speech, p)
    speech = extend_speech(speech, active, music, ev, p)
    sound, foreground = sound_mask(ev, active, speech, music, p)
    return Masks(ev.acoustic.hop_s, active, speech, music, sound, foreground)


def kind_codes(masks: Masks) -> np.ndarray:
    return masks.speech.astype(np.int8) | (masks.music.astype(np.int8) << 1) | (masks.sound.astype(np.int8) << 2)


def kinds_of(code: int) -> frozenset[str]:
    return frozenset(k for i, k in enumerate(KINDS) if code >> i & 1)


def _bounds(codes: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(codes)) + 1
    return list(zip(np.r_[0, edges].tolist(), np.r_[edges, len(codes)].tolist()))


def smooth_codes(codes: np.ndarray, min_len: int) -> np.ndarray:
    """Runs of a constant kind set shorter than min_len take the code of their longer neighbour."""
    codes = codes.copy()
    while True:
        bounds = _bounds(codes)
        short = [(b - a, i) for i, (a, b) in enumerate(bounds) if b - a < min_len and len(bounds) > 1]
        if not short:
            return codes
        _, i = min(short)
        a, b = bounds[i]
        neighbours = [bounds[j] for j in (i - 1, i + 1) if 0 <= j < len(bounds)]
        na, nb = max(neighbours, key=lambda r: r[1] - r[0])
        codes[a:b] = codes[na]


def kind_pieces(masks: Masks, p: FusionParams) -> list[KindPiece]:
    """Maximal stretches of one non-empty kind set, with why each edge is where it is."""
    codes = smooth_codes(kind_codes(masks), frames(p.min_state_s, masks.hop_s))
    bounds = _bounds(codes)
    out = []
    for i, (a, b) in enumerate(bounds):
        code = int(codes[a])
        if code == 0:
            continue
        prev = int(codes[bounds[i - 1][0]]) if i > 0 else 0
        nxt = int(codes[bounds[i + 1][0]]) if i + 1 < len(bounds) else 0
        out.append(KindPiece(a * masks.hop_s, b * masks.hop_s, kinds_of(code), _reason(prev, code), _reason(code, nxt)))
    return out


def _reason(before: int, after: int) -> str:
    on = [ON_REASON[k] for k in kinds_of(after) - kinds_of(before)]
    off = [OFF_REASON[k] for k in kinds_of(before) - kinds_of(after)]
    return join_reasons(*on, *off)


def foreground_edges(masks: Masks, min_event_s: float) -> tuple[list[float], list[float]]:
    """Onsets and offsets of foreground sound events lasting at least `min_event_s`."""
    hop, on, off = masks.hop_s, [], []
    for a, b in runs(masks.foreground):
        if (b - a) * hop >= min_event_s:
            on.append(a * hop)
            off.append(b * hop)
    return on, off
