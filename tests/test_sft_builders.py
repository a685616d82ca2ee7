"""SFT task builders on hand-built rows and on rows from the corpus truth; every time answer is checked
against the branch rows it names in `sources`."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest

from merge.events import collect_events, segment_of
from merge.merger import merge_recordings
from merge.sft import SFT_TASKS
from merge.sft_base import make_windows
from merge.testing import example_outputs, outputs_from_truth
from merge.config import MergeConfig
from schemas.speech import SpeechRow

ALL = MergeConfig(sft_tasks=tuple(SFT_TASKS), sft_max_task_share=1.0)  # the builders, unbalanced
SPAN_LINE = re.compile(r"^(\d+\.\d{2}) - (\d+\.\d{2}): \S.*$")  # time-aware answers: `start - end: event`
ASR = re.compile(r"\[(\d+\.\d{2})\]([^\[\]]+)\[(\d+\.\d{2})\]")
TOL = 0.006  # two decimals
DIARIZED_LINE = re.compile(r"^\[(\d+\.\d{2})\]\[(S\d\d)\](.+)\[(\d+\.\d{2})\]$")


def _rows_by_segment(out):
    return {r.segment_id: r for r in [*out.speech, *out.music, *out.sound]}


def _source_span(out, key: str) -> tuple[float, float]:
    """The span of an event key, read from the branch row itself."""
    row = _rows_by_segment(out)[segment_of(key)]
    if "#e" in key:
        ev = row.events[int(key.rsplit("#e", 1)[1])]
        return ev.start_s, ev.end_s
    if "@t" in key:  # a speaker turn inside a speech row: its words
        turn = int(key.rsplit("@t", 1)[1])
        runs: list[list] = []
        for w in row.words:
            if runs and runs[-1][0] == w.speaker:
                runs[-1][2] = w.end_s
            else:
                runs.append([w.speaker, w.start_s, w.end_s])
        runs[0][1], runs[-1][2] = row.start_s, row.end_s
        return runs[turn][1], runs[turn][2]
    return row.start_s, row.end_s


def _sft(out, cfg=ALL):
    [(cap, rows)] = merge_recordings([out], cfg)
    return cap, rows


def check_time_answers(out, rows) -> int:
    n = 0
    for r in (r for r in rows if r.task == "time_qa"):
        lines = r.response.splitlines()
        assert len(lines) == len(r.sources)
        for line, key in zip(lines, r.sources, strict=True):
            a, b = (float(x) + r.audio_start_s for x in SPAN_LINE.match(line).groups())
            s, e = _source_span(out, key)
            assert abs(a - s) < TOL and abs(b - e) < TOL, (r.prompt, line, key)
            assert r.audio_start_s <= s and e <= r.audio_end_s + TOL
            n += 1
    return n


def test_time_qa_answers_match_their_rows_hand_built():
    out = example_outputs()
    _, rows = _sft(out)
    assert check_time_answers(out, rows) == 7
    q = {r.prompt: r.response for r in rows if r.task == "time_qa"}
    assert q["When does a phone ring?"] == "15.10 - 16.40: a phone rings\n16.90 - 18.20: a phone rings"
    assert q["When does a door slam?"] == "22.35 - 23.10: a door slams"
    assert q["When does S01 speak?"] == '7.00 - 10.40: S01 says "Good morning everyone. Let\'s start with the budget."'
    assert q["When does music play?"].startswith("0.00 - 6.50: music plays with piano")
    [dia] = [r.response for r in rows if r.task == "diarized_asr"]
    assert dia.splitlines()[0] == "[7.00][S01]Good morning everyone. Let's start with the budget.[10.40]"


def test_time_qa_answers_match_their_rows_corpus(truth):
    for rec in truth.values():
        out = outputs_from_truth(rec)
        _, rows = _sft(out)
        assert check_time_answers(out, rows) == len(rec["events"])


def test_counting_matches_rows(truth):
    out = outputs_from_truth(truth["s05_sound_events"])
    _, rows = _sft(out)
    counts = {r.prompt: int(r.response) for r in rows if r.task == "event_counting"}
    assert counts["How many times does a phone ring?"] == 2
    assert counts["How many times does a dog bark?"] == 1
    assert sum(counts.values()) == sum(len(r.events) for r in out.sound) == 19


def test_timestamped_asr_follows_moss_format():
    out = example_outputs()
    _, rows = _sft(out)
    [asr] = [r for r in rows if r.task == "timestamped_asr"]
    pieces = ASR.findall(asr.response)
    assert "".join(f"[{a}]{t}[{b}]" for a, t, b in pieces) == asr.response
    assert [t for _, t, _ in pieces] == [
        "Good morning everyone.", "Let's start with the budget.", "Sure, I have the numbers.",
        "Revenue grew by twelve percent this quarter.",
    ]
    words = [w for row in out.speech for w in row.words]
    for a, t, b in pieces:  # sentence times come from the words of that sentence
        first = next(w for w in words if w.word.strip() == t.split()[0])
        assert abs(float(a) - first.start_s) < TOL and float(b) > float(a)


def test_diarized_asr_labels_in_order_of_appearance(truth):
    rec = truth["s16_podcast_long"]
    _, rows = _sft(outputs_from_truth(rec), ALL.model_copy(update={"sft_max_audio_s": 50.0}))
    dia = [r for r in rows if r.task == "diarized_asr"]
    assert len(dia) >= 2  # the 122 s scene is split into windows
    for r in dia:
        turns = [DIARIZED_LINE.match(line) for line in r.response.splitlines()]
        assert all(turns), r.response  # MOSS-Transcribe-Diarize: [start][Sxx]text[end], one line per turn
        starts = [float(t[1]) for t in turns]
        assert starts == sorted(starts) and all(float(t[1]) < float(t[4]) for t in turns)
        assert all(0 <= float(t[1]) and float(t[4]) <= r.audio_end_s - r.audio_start_s + TOL for t in turns)
        labels = [t[2] for t in turns]
        assert labels[0] == "S01"
        firsts = list(dict.fromkeys(labels))
        assert firsts == [f"S{i + 1:02d}" for i in range(len(firsts))]
        assert all(a != b for a, b in zip(labels, labels[1:], strict=False))  # same-speaker lines are merged
    # the window starting with the third reader relabels her S01
    late = [r for r in dia if r.audio_start_s > 45]
    assert late and "[S01]I am about to attempt" in late[0].response.splitlines()[0]


@dataclass(frozen=True)
class _Caption:
    gender: str | None = None
    emotion: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class _ParaRow(SpeechRow):
    pitch_mean_hz: float | None = None
    speaking_rate_wps: float | None = None
    caption: _Caption | None = None


def test_speech_attribute_qa_uses_measured_columns_and_skips_nulls():
    out = example_outputs()
    row = out.speech[1]
    base = {f.name for f in dataclasses.fields(SpeechRow)} - {"pitch_mean_hz", "speaking_rate_wps", "caption"}
    para = _ParaRow(**{name: getattr(row, name) for name in base}, pitch_mean_hz=182.4, speaking_rate_wps=None,
                    caption=_Caption(gender="female", summary=None))
    _, rows = _sft(dataclasses.replace(out, speech=[out.speech[0], para]))
    qa = {r.prompt: r for r in rows if r.task == "speech_attribute_qa"}
    assert set(qa) == {"What is the speaker's gender?", "What is the speaker's average pitch?"}
    assert qa["What is the speaker's gender?"].response == "Female."
    assert qa["What is the speaker's average pitch?"].response == "About 182 Hz."
    key = f"speech/{row.segment_id}"
    assert all((r.audio_start_s, r.audio_end_s, r.sources) == (13.2, 21.9, [key]) for r in qa.values())
    # the two-speaker row and rows without measures give no attribute questions
    assert not [r for r in _sft(out)[1] if r.task == "speech_attribute_qa"]


def test_speech_attribute_qa_with_the_real_speech_schema():
    names = {f.name for f in dataclasses.fields(SpeechRow)}
    if "caption" not in names or "pitch_mean_hz" not in names:
        pytest.skip("speech rows carry no paralinguistic columns yet")
    from schemas.speech import SpeechCaption

    out = example_outputs()
    row = dataclasses.replace(out.speech[1], pitch_mean_hz=120.0, caption=SpeechCaption(emotion="calm"))
    _, rows = _sft(dataclasses.replace(out, speech=[row]))
    answers = {r.prompt: r.response for r in rows if r.task == "speech_attribute_qa"}
    assert answers == {
        "What emotion does the speaker express?": "Calm.",
        "What is the speaker's average pitch?": "About 120 Hz.",
    }


def test_music_qa_from_music_rows():
    out = example_outputs()
    _, rows = _sft(out)
    qa = {r.prompt: r.response for r in rows if r.task == "music_qa"}
    assert qa == {
        "What is the tempo of this music?": "About 96 BPM.",
        "What key is this music in?": "D major.",
        "Which instruments can be heard in this music?": "Piano and drums.",  # "pop" is not an instrument
        "Describe this music.": "A short upbeat piano jingle",
    }


def test_task_selection_ids_and_spans():
    out = example_outputs()
    assert _sft(out, MergeConfig())[1] == []
    _, only = _sft(out, MergeConfig(sft_tasks=("event_counting",)))
    assert {r.task for r in only} == {"event_counting"}
    _, rows = _sft(out)
    ids = [r.example_id for r in rows]
    assert len(ids) == len(set(ids)) and ids == [r.example_id for r in _sft(out)[1]]
    assert {r.task for r in rows} == set(SFT_TASKS) - {"speech_attribute_qa"}  # no measured attributes here
    assert all(0 <= r.audio_start_s < r.audio_end_s <= 27.0 and r.audio_uri == out.recording.uri for r in rows)
    [cap_row] = [r for r in rows if r.task == "captioning"]
    assert cap_row.response == _sft(out)[0].caption and (cap_row.audio_start_s, cap_row.audio_end_s) == (0.0, 27.0)


def test_windows_never_cut_an_event(truth):
    for rec in truth.values():
        out = outputs_from_truth(rec)
        events = collect_events(out, 3, 0.0)
        for max_s in (10.0, 30.0):
            windows = make_windows(events, out.duration_s(), max_s, 1.0)
            keys = [e.key for w in windows for e in w.events]
            assert sorted(keys) == sorted(e.key for e in events)  # each event in exactly one window
            for w, nxt in zip(windows, windows[1:], strict=False):
                assert w.end_s <= nxt.start_s
            for w in windows:
                assert all(-1e-9 <= e.start_s and e.end_s <= w.end_s - w.start_s + 1e-9 for e in w.events)


def test_counting_uses_bursts_and_merges_labels_worded_alike():
    from merge.outputs import RecordingOutputs
    from schemas.recordings import RecordingRow
    from schemas.sound import SoundEvent, SoundRow

    rid = "yard"
    rows = [
        SoundRow(rid, f"{rid}:a", 0.0, 20.0, "yamnet", events=[SoundEvent("Rain", 0.0, 20.0, 0.4, background=True)]),
        SoundRow(rid, f"{rid}:b", 4.0, 9.0, "yamnet", events=[SoundEvent("Dog", 4.2, 6.0, 0.8, count=2)]),
        SoundRow(rid, f"{rid}:c", 12.0, 14.0, "yamnet", events=[SoundEvent("Bark", 12.1, 12.9, 0.7)]),
    ]
    out = RecordingOutputs(RecordingRow(rid, "yard.wav", "ok", duration_s=20.0), [], [], [], rows)
    _, sft = _sft(out)
    counts = {r.prompt: r.response for r in sft if r.task == "event_counting"}
    assert counts == {"How many times does a dog bark?": "3", "How many times does rain fall?": "1"}
    when = {r.prompt: r.response for r in sft if r.task == "time_qa"}
    assert when["When does a dog bark?"] == "4.20 - 6.00: a dog barks twice\n12.10 - 12.90: a dog barks"
    assert check_time_answers(out, sft) == 3
