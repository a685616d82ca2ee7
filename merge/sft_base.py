"""The SFT task registry, the context every task builder gets, and the audio windows examples refer to."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from merge.events import Event, sort_key
from merge.outputs import RecordingOutputs
from schemas.captions import CaptionRow

if TYPE_CHECKING:
    from merge.config import MergeConfig

ID_DIGEST_CHARS = 12


@dataclass(frozen=True)
class Window:
    """A stretch of the recording one example's audio covers; its events are in window time."""

    start_s: float  # recording time
    end_s: float
    events: tuple[Event, ...]  # shifted to start at the window start, speakers relabelled S01.. here
    whole: bool  # the window is the whole recording
    relabelled: bool  # a speaker label differs from the recording's


@dataclass(frozen=True)
class SftContext:
    outputs: RecordingOutputs
    caption: CaptionRow
    events: tuple[Event, ...]  # recording time
    windows: tuple[Window, ...]
    cfg: MergeConfig


@dataclass(frozen=True)
class Example:
    prompt: str
    response: str
    start_s: float  # the audio span, recording time
    end_s: float
    sources: tuple[str, ...]  # event keys / segment ids


TaskBuilder = Callable[[SftContext], list[Example]]
SFT_TASKS: dict[str, TaskBuilder] = {}


def register_task(name: str) -> Callable[[TaskBuilder], TaskBuilder]:
    def deco(fn: TaskBuilder) -> TaskBuilder:
        if name in SFT_TASKS:
            raise ValueError(f"SFT task {name!r} is registered twice")
        SFT_TASKS[name] = fn
        return fn

    return deco


def example_id(recording_id: str, task: str, ex: Example) -> str:
    """Stable across runs: the same recording, task, span and prompt give the same id."""
    raw = f"{task}|{ex.start_s:.3f}|{ex.end_s:.3f}|{ex.prompt}"
    return f"{recording_id}:{task}:{hashlib.sha1(raw.encode()).hexdigest()[:ID_DIGEST_CHARS]}"


def make_windows(events: list[Event], duration_s: float | None, max_s: float, pad_s: float) -> list[Window]:
    """The whole recording if it is short enough, else groups of events cut only where nothing sounds.

    A group spans at most `max_s` of events unless events overlap across the limit (never cut inside
    an event); its audio extends `pad_s` into the gaps around it.
    """
    end = duration_s if duration_s else max((e.end_s for e in events), default=0.0)
    if end <= 0:
        return []  # no audio to refer to
    if end <= max_s or not events:
        return [_window(0.0, end, events, whole=True)]
    groups: list[list[Event]] = []
    group_end = 0.0
    for e in sorted(events, key=sort_key):
        if groups and (e.start_s < group_end or max(group_end, e.end_s) - groups[-1][0].start_s <= max_s):
            groups[-1].append(e)
            group_end = max(group_end, e.end_s)
        else:
            groups.append([e])
            group_end = e.end_s
    return [_padded(groups, i, end, pad_s) for i in range(len(groups))]


def _padded(groups: list[list[Event]], i: int, end: float, pad_s: float) -> Window:
    g = groups[i]
    g_start, g_end = g[0].start_s, max(e.end_s for e in g)
    prev_end = max(e.end_s for e in groups[i - 1]) if i else 0.0
    next_start = groups[i + 1][0].start_s if i + 1 < len(groups) else end
    start = max(g_start - pad_s, (prev_end + g_start) / 2 if i else 0.0)
    stop = min(g_end + pad_s, (g_end + next_start) / 2 if i + 1 < len(groups) else end)
    return _window(start, stop, g, whole=False)


def _window(start: float, end: float, events: list[Event], whole: bool) -> Window:
    speakers = list(dict.fromkeys(e.speaker for e in events if e.speaker))
    relabel = {s: f"S{i + 1:02d}" for i, s in enumerate(speakers)}
    shifted = tuple(_shift(e, start, relabel) for e in events)
    return Window(start, end, shifted, whole, any(k != v for k, v in relabel.items()))


def _shift(e: Event, offset: float, relabel: dict[str, str]) -> Event:
    words = tuple(dataclasses.replace(w, start_s=w.start_s - offset, end_s=w.end_s - offset) for w in e.words)
    speaker = relabel.get(e.speaker, e.speaker) if e.speaker else e.speaker
    label = speaker if e.branch == "speech" and speaker else e.label
    return dataclasses.replace(
        e, start_s=e.start_s - offset, end_s=e.end_s - offset, words=words, speaker=speaker, label=label
    )
