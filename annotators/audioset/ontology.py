"""The AudioSet ontology's is-a links by display name: a class's ancestors, to back off an uncertain leaf
("Turkey" -> "Fowl" -> "Livestock, farm animals, working animals" -> "Animal").

Data: `ontology_parents.json` ({name: [parent names]}), made from the AudioSet ontology
(github.com/audioset/ontology, CC BY-SA 4.0, Gemmeke et al. 2017) by `scripts/build_ontology_parents.py`.
Names are the ontology's display names, which YAMNet's class map (and other AudioSet taggers) use.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).with_name("ontology_parents.json")
# Top-level categories: too broad to be a statement about what was heard ("a sound of things occurs").
ROOTS: frozenset[str] = frozenset({
    "Human sounds", "Animal", "Music", "Natural sounds", "Sounds of things", "Source-ambiguous sounds",
    "Channel, environment and background",
})
# Of those, the ones that still say something true and useful on their own.
STATABLE_ROOTS: frozenset[str] = frozenset({"Animal", "Music", "Natural sounds"})
# Groups by the form of a sound rather than its source ("Onomatopoeia"), or the speech branch's business.
VAGUE: frozenset[str] = frozenset({
    "Onomatopoeia", "Miscellaneous sources", "Other sourceless", "Deformable shell", "Specific impact sounds",
    "Surface contact", "Human voice", "Brief tone",
})


@functools.lru_cache(maxsize=1)
def parents() -> dict[str, tuple[str, ...]]:
    return {name: tuple(ps) for name, ps in json.loads(DATA.read_text()).items()}


def known(name: str) -> bool:
    return name in parents()


@functools.lru_cache(maxsize=4096)
def ancestors(name: str) -> tuple[str, ...]:
    """Every ancestor of a class, nearest first (breadth-first over its parents), each once; () if unknown."""
    graph = parents()
    out: list[str] = []
    frontier = list(graph.get(name, ()))
    while frontier:
        nxt = []
        for p in frontier:
            if p not in out and p != name:
                out.append(p)
                nxt.extend(graph.get(p, ()))
        frontier = nxt
    return tuple(out)


def is_under(name: str, ancestor: str) -> bool:
    """`name` is `ancestor` or one of its descendants."""
    return name == ancestor or ancestor in ancestors(name)


def statable(name: str) -> bool:
    """A class worth stating as what was heard: not a top-level category (except those that say something)."""
    return (name not in ROOTS or name in STATABLE_ROOTS) and name not in VAGUE
