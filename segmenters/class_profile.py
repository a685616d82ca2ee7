"""Frame-level class profile of a whole recording: YAMNet's 521 AudioSet scores mapped to coarse classes.

Coarse classes follow MOSS-Audio's nine. The mapping uses YAMNet's class-map order, which walks the
AudioSet ontology depth-first, so each top-level branch is a contiguous index range:

| coarse          | AudioSet classes (YAMNet indices)                                                        |
|-----------------|------------------------------------------------------------------------------------------|
| speech          | Speech, Child speech, Conversation, Narration, Speech synthesizer (0-3, 5); Whispering (12) |
| vocal           | Babbling (4); Shout .. Sigh (6-11, 13-23); Groan .. Sniff (33-45); Whistling (35)          |
| singing         | Singing .. Humming (24-32); Vocal music, A capella (249-250)                             |
| music           | Music .. Scary music (132-276, less bells and 249-250); Electronic tuner .. Chorus effect (456-458) |
| animal          | Animal .. Whale vocalization (67-131)                                                    |
| natural_sound   | Wind .. Crackle (277-293)                                                                |
| object_sound    | Sounds of things: Vehicle .. Boiling (294-450); human non-vocal sounds: Run .. Applause (46-62); bells: Bell .. Change ringing (195-202), which AudioSet files under instruments but are mostly sound events (door, bicycle, church bells) |
| ambiguous       | Source-ambiguous sounds: Sonar .. Thunk (451-455), Basketball bounce .. Crunch (459-493), Sine wave .. Pulse (495-499) |
| environment     | Channel/environment/background: Inside .. Field recording (500-520); crowd beds: Chatter .. Children playing (63-66) |

Silence (494) belongs to none; it is kept as its own score. A coarse score is the maximum of its member
classes (a sum would favour big groups such as music's 145 classes).
Branch routing: speech <- speech, vocal; music <- music, singing; sound <- animal, natural_sound,
object_sound, ambiguous. `environment` (room tone, radio, crowd beds) routes nowhere by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schemas.common import Branch, LabelScore

COARSE_CLASSES = (
    "speech",
    "vocal",
    "singing",
    "music",
    "natural_sound",
    "ambiguous",
    "object_sound",
    "environment",
    "animal",
)
SILENCE_INDEX = 494
_FRAME_TAIL_S = 0.05  # audio past a chunk's last patch, so that its last log-mel frames are whole
NUM_AUDIOSET = 521

_RANGES: dict[str, tuple[tuple[int, int], ...]] = {  # inclusive index ranges
    "speech": ((0, 3), (5, 5), (12, 12)),
    "vocal": ((4, 4), (6, 11), (13, 23), (33, 45)),
    "singing": ((24, 32), (249, 250)),
    "music": ((132, 194), (203, 248), (251, 276), (456, 458)),
    "animal": ((67, 131),),
    "natural_sound": ((277, 293),),
    "object_sound": ((294, 450), (46, 62), (195, 202)),
    "ambiguous": ((451, 455), (459, 493), (495, 499)),
    "environment": ((500, 520), (63, 66)),
}
# Names the index ranges rely on: a class map that disagrees is not YAMNet's and is refused.
_ANCHORS = {0: "Speech", 24: "Singing", 67: "Animal", 132: "Music", 277: "Wind", 294: "Vehicle", 494: "Silence"}

BRANCH_CLASSES: dict[Branch, tuple[str, ...]] = {
    "speech": ("speech", "vocal"),
    "music": ("music", "singing"),
    "sound": ("animal", "natural_sound", "object_sound", "ambiguous"),
}


def coarse_index() -> dict[str, np.ndarray]:
    """Coarse class -> the AudioSet indices it takes its maximum over."""
    out = {}
    for name in COARSE_CLASSES:
        idx = [i for a, b in _RANGES[name] for i in range(a, b + 1)]
        out[name] = np.array(sorted(set(idx)), dtype=np.int64)
    return out


def check_class_names(class_names: list[str]) -> None:
    if len(class_names) != NUM_AUDIOSET:
        raise ValueError(f"class profile needs YAMNet's {NUM_AUDIOSET} AudioSet classes, got {len(class_names)}")
    for i, name in _ANCHORS.items():
        if not class_names[i].startswith(name):
            raise ValueError(f"class map is not YAMNet's: index {i} is {class_names[i]!r}, expected {name!r}")


@dataclass(frozen=True)
class ClassProfile:
    """Scores of overlapping patches: patch i covers [starts_s[i], starts_s[i] + patch_s)."""

    starts_s: np.ndarray  # [T]
    fine: np.ndarray  # [T, 521] AudioSet scores 0..1
    coarse: np.ndarray  # [T, len(COARSE_CLASSES)]
    silence: np.ndarray  # [T] YAMNet's Silence score
    patch_s: float
    class_names: tuple[str, ...]

    @property
    def centres_s(self) -> np.ndarray:
        return self.starts_s + self.patch_s / 2

    def coarse_of(self, name: str) -> np.ndarray:
        return self.coarse[:, COARSE_CLASSES.index(name)]

    def branch_score(self, branch: Branch) -> np.ndarray:
        """Per patch: the strongest coarse class that routes to `branch`."""
        cols = [COARSE_CLASSES.index(c) for c in BRANCH_CLASSES[branch]]
        return self.coarse[:, cols].max(axis=1) if len(self.starts_s) else np.zeros(0, dtype=np.float32)

    def on_grid(self, values: np.ndarray, times_s: np.ndarray) -> np.ndarray:
        """Patch values at arbitrary times (linear between patch centres, held at the ends)."""
        if len(self.starts_s) == 0:
            return np.zeros(len(times_s), dtype=np.float32)
        return np.interp(times_s, self.centres_s, values).astype(np.float32)

    def window(self, start_s: float, end_s: float) -> slice:
        """Patches whose centre lies inside [start_s, end_s) (at least the nearest one)."""
        c = self.centres_s
        a, b = int(np.searchsorted(c, start_s)), int(np.searchsorted(c, end_s))
        if b <= a:
            a = int(np.clip(np.argmin(np.abs(c - (start_s + end_s) / 2)), 0, max(len(c) - 1, 0)))
            b = a + 1
        return slice(a, b)

    def scores_for(self, start_s: float, end_s: float, top_fine: int = 3) -> tuple[LabelScore, ...]:
        """Coarse classes (mean over the span's patches) then the top fine AudioSet labels."""
        if len(self.starts_s) == 0:
            return ()
        w = self.window(start_s, end_s)
        coarse = self.coarse[w].mean(axis=0)
        out = [LabelScore(name, round(float(s), 4)) for name, s in zip(COARSE_CLASSES, coarse)]
        fine = self.fine[w].mean(axis=0)
        fine[SILENCE_INDEX] = 0.0
        for i in np.argsort(-fine)[:top_fine]:
            out.append(LabelScore(f"audioset:{self.class_names[i]}", round(float(fine[i]), 4)))
        return tuple(out)


def coarse_scores(fine: np.ndarray) -> np.ndarray:
    index = coarse_index()
    if fine.size == 0:
        return np.zeros((len(fine), len(COARSE_CLASSES)), dtype=np.float32)
    return np.stack([fine[:, index[name]].max(axis=1) for name in COARSE_CLASSES], axis=1).astype(np.float32)


def class_profile(samples: np.ndarray, sample_rate: int, tagger, hop_s: float = 0.48,
                  active: list[tuple[float, float]] | None = None) -> ClassProfile:
    """Run a YAMNet-like tagger (`frame_scores`, `class_names`, `patch_s`) over the whole recording.

    With `active` spans, only patches touching them are tagged; the others (long quiet stretches) are
    taken as Silence, which saves most of the cost on sparse recordings. Chunks start on the patch grid,
    so the tagged patches are the very ones a full pass would give.
    """
    names = list(tagger.class_names)
    check_class_names(names)
    if active is None:
        starts, fine = tagger.frame_scores(samples, sample_rate=sample_rate, hop_s=hop_s)
    else:
        starts, fine = _tag_active(samples, sample_rate, tagger, hop_s, active)
    fine = np.asarray(fine, dtype=np.float32)
    return ClassProfile(
        starts_s=np.asarray(starts, dtype=np.float64),
        fine=fine,
        coarse=coarse_scores(fine),
        silence=fine[:, SILENCE_INDEX] if len(fine) else np.zeros(0, dtype=np.float32),
        patch_s=float(tagger.patch_s),
        class_names=tuple(names),
    )


def load_tagger(model_path: str | None = None, device: str = "cpu"):
    """The AudioSet tagger (YAMNet, packaged weights unless a path is given), loaded."""
    from annotators.audioset.yamnet import YamNet

    tagger = YamNet(model_path=model_path, device=device)
    tagger.setup()
    return tagger


def _tag_active(samples: np.ndarray, sample_rate: int, tagger, hop_s: float,
                active: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    duration, patch = len(samples) / sample_rate, float(tagger.patch_s)
    count = 1 + max(0, int(np.ceil((duration - patch) / hop_s)))
    starts = np.arange(count) * hop_s
    fine = np.zeros((count, NUM_AUDIOSET), dtype=np.float32)
    fine[:, SILENCE_INDEX] = 1.0
    for i0, i1 in _patch_ranges(active, hop_s, patch, count):
        a = round(i0 * hop_s * sample_rate)
        b = min(len(samples), round(((i1 - 1) * hop_s + patch + _FRAME_TAIL_S) * sample_rate))
        local_starts, scores = tagger.frame_scores(samples[a:b], sample_rate=sample_rate, hop_s=hop_s)
        idx = i0 + np.round(np.asarray(local_starts) / hop_s).astype(int)
        keep = idx < min(i1, count)
        fine[idx[keep]] = scores[keep]
    return starts, fine


def _patch_ranges(active: list[tuple[float, float]], hop_s: float, patch_s: float, count: int) -> list[tuple[int, int]]:
    """[i0, i1) ranges of patches overlapping the active spans, merged when they touch."""
    out: list[list[int]] = []
    for s, e in sorted(active):
        i0 = max(0, int(np.floor((s - patch_s) / hop_s)))
        i1 = min(count, int(np.ceil(e / hop_s)) + 1)
        if out and i0 <= out[-1][1]:
            out[-1][1] = max(out[-1][1], i1)
        elif i1 > i0:
            out.append([i0, i1])
    return [(a, b) for a, b in out]
