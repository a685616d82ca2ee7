"""Make annotators/audioset/ontology_parents.json from the AudioSet ontology's ontology.json.

    python scripts/build_ontology_parents.py path/to/ontology.json

ontology.json: github.com/audioset/ontology (CC BY-SA 4.0). Kept: each class's display name -> the display
names of its parents (classes listing it among their `child_ids`), in the ontology's order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "annotators" / "audioset" / "ontology_parents.json"


def build(nodes: list[dict]) -> dict[str, list[str]]:
    name = {n["id"]: n["name"] for n in nodes}
    parents: dict[str, list[str]] = {n["name"]: [] for n in nodes}
    for node in nodes:
        for child in node.get("child_ids", ()):
            if child in name and node["name"] not in parents[name[child]]:
                parents[name[child]].append(node["name"])
    return parents


if __name__ == "__main__":
    data = build(json.loads(Path(sys.argv[1]).read_text()))
    OUT.write_text(json.dumps(data, indent=0, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(data)} classes")
