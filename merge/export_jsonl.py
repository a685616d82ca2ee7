"""SFT rows (or a Parquet file / folder of the `sft` table) <-> MOSS-Audio fine-tune JSONL, and back.

One line per example:
    {"conversation": [
        {"role": "user", "message_type": "audio", "content": "<uri>#t=<start>,<end>"},
        {"role": "user", "message_type": "text", "content": "<prompt>"},
        {"role": "assistant", "message_type": "text", "content": "<response>"}],
     "meta": {"example_id": ..., "recording_id": ..., "task": ..., "sources": [...]}}
The audio is a media-fragment URI (`audio="uri"`) or `{"path", "start_s", "end_s"}` (`audio="dict"`).
`meta` makes the file round-trip to the same rows; trainers ignore it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from schemas.sft import SftRow

AudioForm = Literal["uri", "dict"]
FRAGMENT = "#t="


def audio_content(row: SftRow, audio: AudioForm = "uri") -> str | dict[str, Any]:
    if audio == "dict":
        return {"path": row.audio_uri, "start_s": row.audio_start_s, "end_s": row.audio_end_s}
    # repr() of a float is its shortest exact form: the span reads back bit for bit.
    return f"{row.audio_uri}{FRAGMENT}{row.audio_start_s!r},{row.audio_end_s!r}"


def parse_audio(content: str | dict[str, Any]) -> tuple[str, float, float]:
    if isinstance(content, dict):
        return content["path"], float(content["start_s"]), float(content["end_s"])
    uri, sep, frag = content.rpartition(FRAGMENT)
    if not sep:
        raise ValueError(f"audio content has no {FRAGMENT}start,end fragment: {content!r}")
    start, end = frag.split(",")
    return uri, float(start), float(end)


def to_conversation(row: SftRow, audio: AudioForm = "uri", meta: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "conversation": [
            {"role": "user", "message_type": "audio", "content": audio_content(row, audio)},
            {"role": "user", "message_type": "text", "content": row.prompt},
            {"role": "assistant", "message_type": "text", "content": row.response},
        ]
    }
    if meta:
        out["meta"] = {
            "example_id": row.example_id,
            "recording_id": row.recording_id,
            "task": row.task,
            "sources": list(row.sources),
        }
    return out


def from_conversation(obj: dict[str, Any]) -> SftRow:
    turns = obj["conversation"]
    audio = next(t for t in turns if t["message_type"] == "audio")
    prompt = next(t for t in turns if t["role"] == "user" and t["message_type"] == "text")
    answer = next(t for t in turns if t["role"] == "assistant")
    uri, start, end = parse_audio(audio["content"])
    meta = obj.get("meta") or {}
    return SftRow(
        recording_id=meta.get("recording_id", ""),
        example_id=meta.get("example_id", ""),
        task=meta.get("task", ""),
        prompt=prompt["content"],
        response=answer["content"],
        audio_uri=uri,
        audio_start_s=start,
        audio_end_s=end,
        sources=list(meta.get("sources", [])),
    )


def read_sft_parquet(path: str | Path) -> list[SftRow]:
    """A Parquet file or a folder of them (the pipeline's `sft` table)."""
    import pyarrow.parquet as pq

    names = {f.name for f in dataclasses.fields(SftRow)}
    rows = pq.read_table(str(path)).to_pylist()
    return [SftRow(**{k: v for k, v in r.items() if k in names}) for r in rows]


def export_jsonl(
    rows: Iterable[SftRow] | str | Path, path: str | Path, audio: AudioForm = "uri", meta: bool = True
) -> int:
    """Writes one conversation per line; returns the number written."""
    if isinstance(rows, (str, Path)):
        rows = read_sft_parquet(rows)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(to_conversation(row, audio, meta), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)  # readers never see a half-written file
    return n


def read_jsonl(path: str | Path) -> list[SftRow]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [from_conversation(json.loads(line)) for line in lines if line.strip()]
