"""Sounds over speech that the class profile misses: a sound fills the short dips between syllables.

In speech alone, the level of each band falls well below its typical value many times a second (between
syllables and words). A ringing phone, applause or a clink over the speech fills those dips. So, per band,
the running low percentile of the level (over `window_s`) is compared with the band's median over the
same speech region; where it comes close, something other than the voice is sounding.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from segmenters.acoustic import AcousticEvidence
from segmenters.energy import runs


class OverlapParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_s: float = Field(0.5, gt=0, description="window of the running low percentile")
    low_percentile: float = Field(10.0, gt=0, lt=50)
    bands: tuple[int, ...] = Field((1, 2, 3), description="300 Hz - 5 kHz: where every voice has energy")
    fill_db: float = Field(1.0, description="running floor minus the region's median that means filled")
    extend_db: float = Field(7.0, ge=0, description="a filled run extends while within this of fill_db "
                             "(hysteresis: fade-ins and decays belong to the sound)")
    min_s: float = Field(0.2, ge=0, description="filled runs need a core at least this long")


def filled_dips(ev: AcousticEvidence, speech: np.ndarray, p: OverlapParams) -> np.ndarray:
    """Frames inside `speech` (a mask on the acoustic grid) where another sound fills the speech dips."""
    from scipy.ndimage import percentile_filter

    out = np.zeros(len(speech), dtype=bool)
    if not speech.any():
        return out
    width = max(1, round(p.window_s / ev.hop_s))
    cols = [b for b in p.bands if b < ev.bands_db.shape[1]]
    floor = np.stack([percentile_filter(ev.bands_db[:, b], p.low_percentile, size=width) for b in cols], axis=1)
    grow = round(width * (0.5 - p.low_percentile / 100))  # the running percentile shrinks runs by this much
    for a, b in runs(speech):
        excess = (floor[a:b] - np.median(ev.bands_db[a:b, cols], axis=0)).max(axis=1)
        strong = excess >= p.fill_db
        for r0, r1 in runs(excess >= p.fill_db - p.extend_db):
            if _longest_run(strong[r0:r1]) * ev.hop_s >= p.min_s:
                out[max(a, a + r0 - grow) : min(b, a + r1 + grow)] = True
    return out


def _longest_run(mask: np.ndarray) -> int:
    return max((b - a for a, b in runs(mask)), default=0)
