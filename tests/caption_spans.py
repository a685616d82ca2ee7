"""What a template caption's spans must cover, checked from the events alone (not from the merge code):
every event is stated by its own span, or lies in a stated span that runs from the start of one sound to
the end of a later one and says how many times ("a phone rings twice (7.20 - 9.98)")."""

from __future__ import annotations

import re

SPAN = re.compile(r"(\d+\.\d{2}) - (\d+\.\d{2})")
TOL = 0.011
COUNT = re.compile(r"\b(twice|three times|\d+ times)\b")


def check_spans(caption: str, events: list[tuple[str, float, float]]) -> list[tuple[float, float]]:
    """`events`: (kind, start, end). Returns the stated spans; asserts that they cover every event once."""
    sentences = [s for s in re.split(r"(?<=\.) ", caption)]
    stated = [(float(a), float(b)) for a, b in SPAN.findall(caption)]
    covered = []
    for a, b in stated:
        own = [e for e in events if abs(e[1] - a) < TOL and abs(e[2] - b) < TOL]
        if own:
            covered.append(own[0])
            continue
        run = [e for e in events if e[0] == "sound" and e[1] >= a - TOL and e[2] <= b + TOL]
        assert len(run) >= 2 and abs(min(e[1] for e in run) - a) < TOL and abs(max(e[2] for e in run) - b) < TOL, (a, b)
        sentence = next(s for s in sentences if f"{a:.2f} - {b:.2f}" in s)
        assert COUNT.search(sentence), sentence
        covered.extend(run)
    assert sorted(covered) == sorted(events), "every event stated exactly once"
    return stated
