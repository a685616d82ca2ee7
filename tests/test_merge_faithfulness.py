"""The faithfulness check on template and free text: dropped, invented and altered events are flagged."""

from __future__ import annotations

import re

import pytest

from merge.faithfulness import check_caption, split_statements
from merge.merger import draft
from merge.testing import example_outputs
from merge.config import MergeConfig

CFG = MergeConfig()


@pytest.fixture(scope="module")
def meeting():
    d = draft(example_outputs(), CFG)
    return d, d.template.caption


def _check(d, text):
    return check_caption(text, d.events, d.outputs.duration_s(), CFG, d.support_terms)


def test_template_is_traced_statement_by_statement(meeting):
    d, text = meeting
    rep = _check(d, text)
    assert rep.faithful, rep.issues
    assert len(rep.links) == len(split_statements(text)) == len(d.events) - 1  # the phone's two rings: one statement
    linked = [k for lk in rep.links for k in lk.event_keys]
    assert sorted(linked) == sorted(e.key for e in d.events)  # each event exactly once


def test_removed_event_is_flagged(meeting):
    d, text = meeting
    for e in d.events:
        sentence = next(lk.statement for lk in _check(d, text).links if e.key in lk.event_keys)
        rep = _check(d, text.replace(sentence, "").strip())
        assert not rep.faithful
        assert any(i.startswith("dropped event") and f"{e.start_s:.2f} - {e.end_s:.2f}" in i for i in rep.issues)


@pytest.mark.parametrize(
    "addition, reason",
    [
        ("A cat meows (24.10 - 25.30).", "not the span of any event"),
        ("A cat meows (22.35 - 23.10).", '"cat" is named'),
        ("Then a dog barks.", '"dog" is named'),
        ("A siren wails at 25.50 s.", "time 25.5"),
        ('S03 says "Thank you all" (7.00 - 10.40).', "speaker S03"),
        ("The recording is calm and pleasant.", "tied to no event"),
    ],
)
def test_invented_content_is_flagged(meeting, addition, reason):
    d, text = meeting
    rep = _check(d, f"{text} {addition}")
    assert not rep.faithful
    assert any(reason in i for i in rep.issues), rep.issues


@pytest.mark.parametrize(
    "old, new, reason",
    [
        ("96 BPM", "128 BPM", "tempo 128"),
        ("D major", "F minor", "key F minor"),
        ("twelve percent", "forty percent", "quotation"),
        ("A door slams (22.35", "A window shatters (22.35", "does not name"),
        ("(15.10 - 18.20)", "(15.10 - 17.40)", "not the span of any event"),
    ],
)
def test_altered_content_is_flagged(meeting, old, new, reason):
    d, text = meeting
    assert old in text
    rep = _check(d, text.replace(old, new))
    assert not rep.faithful
    assert any(reason in i for i in rep.issues), rep.issues


def test_faithful_free_text_passes(meeting):
    """An LLM-style paraphrase: other span wording, merged sentences, synonyms, rounded times."""
    d, text = meeting
    free = re.sub(r"\((\d+\.\d+) - (\d+\.\d+)\)", r"from \1 to \2 s", text)
    free = free.replace("a phone rings again", "the telephone is ringing once more")
    free = free.replace(". While", ", and while").replace("A door slams", "A door slammed")
    free = free.replace("22.35", "22.4")  # rounded to one decimal: within the tolerance
    rep = _check(d, free)
    assert rep.faithful, rep.issues
    assert len(rep.links) < len(d.events)  # several events per statement now
    assert sorted(k for lk in rep.links for k in lk.event_keys) == sorted(e.key for e in d.events)


def test_event_stated_twice_is_flagged(meeting):
    d, text = meeting
    rep = _check(d, text + " A door slams (22.35 - 23.10).")
    assert any("more than once" in i for i in rep.issues)


def test_split_statements_keeps_quotes_whole():
    text = 'S01 says "Hi. How are you?" (1.00 - 2.00). A dog barks (3.00 - 3.50).\n4.00 - 5.00: a bell rings'
    assert split_statements(text) == [
        'S01 says "Hi. How are you?" (1.00 - 2.00).',
        "A dog barks (3.00 - 3.50).",
        "4.00 - 5.00: a bell rings",
    ]


def test_decade_tag_is_not_read_as_a_time():
    import dataclasses

    from schemas.common import LabelScore

    out = example_outputs()
    music = [dataclasses.replace(out.music[0], tags=[*out.music[0].tags, LabelScore("80s", 0.5)])]
    d = draft(dataclasses.replace(out, music=music), MergeConfig(max_music_tags=4))
    assert "tagged pop and 80s" in d.template.caption
    assert d.report.faithful, d.report.issues
    rep = _check(d, d.template.caption + " Then at 25 s a bell rings.")
    assert any("time 25" in i for i in rep.issues)


def test_overlap_clause_does_not_restate_an_event_with_a_near_identical_span():
    """Regression (bundled example ex4): music 0.50-3.00 under a sound at 0.51-3.00. The template says
    "While music plays, a ... sound occurs (0.51 - 3.00)": that span is the sound's, not the music's again."""
    from merge.outputs import RecordingOutputs
    from merge.merger import merge_recordings
    from merge.config import MergeConfig
    from schemas.music import MusicRow
    from schemas.recordings import RecordingRow
    from schemas.sound import SoundEvent, SoundRow

    rec = RecordingRow("r", "/r.wav", "ok", duration_s=5.0)
    music = MusicRow("r", "r:m", 0.5, 3.0, "yamnet", caption="solo guitar")
    sound = SoundRow("r", "r:s", 0.5, 3.0, "yamnet", events=[SoundEvent("Jingle bell", 0.51, 3.0, 0.4)])
    (caption, _), = merge_recordings([RecordingOutputs(rec, [], [], [music], [sound])], MergeConfig())
    assert caption.faithful, caption.faithfulness_issues
    assert "(0.51 - 3.00)" in caption.caption and "(0.50 - 3.00)" in caption.caption


def test_two_events_with_the_very_same_span_are_each_stated_once():
    # Seen on a noisy copy of s16: a segment cut made a music row and a sound event share 7.16 - 8.24, and the
    # sound's sentence "While music plays, a spray sound occurs (7.16 - 8.24)" was read as stating the music again.
    from merge.merger import merge_recordings
    from merge.outputs import RecordingOutputs
    from schemas.music import MusicRow
    from schemas.recordings import RecordingRow
    from schemas.sound import SoundEvent, SoundRow

    rid = "cut"
    music = [MusicRow(rid, f"{rid}:m1", 0.0, 7.16, "m", tempo_bpm=100.0, key="C", mode="major"),
             MusicRow(rid, f"{rid}:m2", 7.16, 8.24, "m")]
    sound = [SoundRow(rid, f"{rid}:s1", 0.51, 7.16, "y", events=[SoundEvent("Spray", 0.51, 7.16, 0.4, count=2)]),
             SoundRow(rid, f"{rid}:s2", 7.16, 8.24, "y", events=[SoundEvent("Spray", 7.16, 8.24, 0.4, count=2)])]
    out = RecordingOutputs(RecordingRow(rid, "cut.wav", "ok", duration_s=8.24), [], [], music, sound)
    [(caption, _)] = merge_recordings([out], MergeConfig())
    assert "While music plays" in caption.caption and "(7.16 - 8.24)" in caption.caption
    assert caption.faithful, caption.faithfulness_issues
