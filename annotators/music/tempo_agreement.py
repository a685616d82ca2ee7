"""Which tempo a music row states: two independent beat trackers as witnesses.

The onset tempogram (`rhythm`, librosa) is right on clean music and says "unknown" under speech or noise;
BeatNet (`beatnet`, a network trained on real recordings) keeps finding the beat under speech, but now and
then locks to 3/4 of the tempo or drifts through a passage with no clear beat. A tempo is stated when they
agree (within `tolerance`), or when the tempogram has none and BeatNet is confident on its own; when both
give a tempo and they disagree, the row says none ("tempo unknown") rather than pick one.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotators.music.beatnet import BeatNetRhythm
from annotators.music.rhythm import Rhythm

BEATNET, AGREED = "beatnet", "agreed"  # `Rhythm.method`; the tempogram's own is `rhythm.METHOD`


@dataclass(frozen=True)
class AgreementConfig:
    tolerance: float = 0.04  # relative tempo difference still counted as agreement
    beatnet_min_confidence: float = 0.5  # BeatNet alone: its mean activation at the beats it placed


def from_beatnet(net: BeatNetRhythm, method: str, meter: str | None = None) -> Rhythm:
    return Rhythm(round(net.tempo_bpm, 2), net.confidence, net.beats_s, net.meter or meter,
                  downbeats_s=net.downbeats_s, method=method)


def beatnet_only(net: BeatNetRhythm | None, cfg: AgreementConfig) -> Rhythm:
    if net is None or net.tempo_bpm is None or net.confidence < cfg.beatnet_min_confidence:
        return Rhythm(None, net.confidence if net else None, [], None)
    return from_beatnet(net, BEATNET)


def combine(onset: Rhythm, net: BeatNetRhythm | None, cfg: AgreementConfig) -> Rhythm:
    if net is None or net.tempo_bpm is None:
        return onset
    if onset.tempo_bpm is None:
        return beatnet_only(net, cfg)
    if abs(net.tempo_bpm - onset.tempo_bpm) <= cfg.tolerance * onset.tempo_bpm:
        return from_beatnet(net, AGREED, onset.meter)
    return Rhythm(None, net.confidence, [], None)  # two witnesses disagree: unknown
