"""Template caption on hand-built branch outputs: every event once with its span, overlaps, subsets, silence."""

from __future__ import annotations

import dataclasses
import re
import time

from merge.caption import NO_EVENTS
from merge.events import collect_events
from merge.merger import merge_recordings
from merge.outputs import RecordingOutputs
from merge.testing import example_outputs
from merge.config import MergeConfig
from schemas.recordings import RecordingRow
from tests.caption_spans import check_spans

CFG = MergeConfig()
SPAN = re.compile(r"(\d+\.\d{2}) - (\d+\.\d{2})")


def _caption(out: RecordingOutputs):
    [(cap, sft)] = merge_recordings([out], CFG)
    return cap


def _all_events(out: RecordingOutputs) -> list[tuple[str, float, float]]:
    """(kind, start, end) of every event in the rows, read straight from the rows (not from merge code)."""
    spans = []
    for row in out.speech:
        turns = {w.speaker for w in row.words}
        if len(turns) > 1:  # a speaker change inside the row: one event per turn, from its words
            runs: list[list] = []
            for w in row.words:
                if runs and runs[-1][0] == w.speaker:
                    runs[-1][2] = w.end_s
                else:
                    runs.append([w.speaker, w.start_s, w.end_s])
            runs[0][1], runs[-1][2] = row.start_s, row.end_s
            spans += [("speech", s, e) for _, s, e in runs]
        else:
            spans.append(("speech", row.start_s, row.end_s))
    spans += [("music", r.start_s, r.end_s) for r in out.music]
    spans += [("sound", ev.start_s, ev.end_s) for r in out.sound for ev in r.events]
    return spans


def test_every_event_appears_once_with_its_span():
    out = example_outputs()
    cap = _caption(out)
    expected = _all_events(out)
    assert cap.num_events == len(expected) == 7
    stated = check_spans(cap.caption, [(k, round(s, 2), round(e, 2)) for k, s, e in expected])
    assert len(stated) == 6  # the phone ringing twice is one statement
    lines = cap.timeline_text.splitlines()  # the timeline keeps one line per event
    assert len(lines) == len(expected)
    assert [(float(a), float(b)) for a, b in (SPAN.match(line).groups() for line in lines)] == sorted(
        (round(s, 2), round(e, 2)) for _, s, e in expected)
    assert cap.faithful and cap.faithfulness_issues == []


def test_caption_is_time_ordered_and_readable():
    cap = _caption(example_outputs())
    starts = [float(a) for a, _ in SPAN.findall(cap.caption)]
    assert starts == sorted(starts)
    text = cap.caption
    # speaker labels + text from the words/speaker columns, music details, sounds as phrases
    assert 'S01 says "Good morning everyone. Let\'s start with the budget." (7.00 - 10.40)' in text
    assert 'S02 says "Sure, I have the numbers." (10.90 - 12.60)' in text
    assert "with piano and drums at about 96 BPM in D major" in text
    assert "While S02 speaks, a phone rings twice (15.10 - 18.20)" in text  # two rings 0.5 s apart: one statement
    assert "A door slams (22.35 - 23.10)." in text
    assert "Telephone_bell" not in text and "{" not in text and "label" not in text  # not a field dump


def test_timeline_links_back_to_rows_and_model_ids():
    out = example_outputs()
    cap = _caption(out)
    row_ids = {r.segment_id for r in [*out.speech, *out.music, *out.sound]}
    assert {ev.source_segment_id for ev in cap.timeline} <= row_ids
    assert [ev.branch for ev in cap.timeline].count("sound") == 3
    assert cap.model_ids == ["musicnn-msd", "openai/whisper-base", "yamnet"]
    # each statement is linked to the segment it came from
    door = next(lk for lk in cap.links if "door" in lk.statement)
    assert door.segment_ids == [out.sound[1].segment_id]
    assert door.event_keys == [f"sound/{out.sound[1].segment_id}#e0"]


def _subset(out: RecordingOutputs, **keep) -> RecordingOutputs:
    empty = {"speech": [], "music": [], "sound": []}
    return dataclasses.replace(out, **{k: (getattr(out, k) if keep.get(k) else v) for k, v in empty.items()})


def test_any_subset_of_branches():
    out = example_outputs()
    for keep in ({"speech": 1}, {"music": 1}, {"sound": 1}, {"speech": 1, "sound": 1}):
        sub = _subset(out, **keep)
        cap = _caption(sub)
        assert cap.num_events == len(_all_events(sub)) > 0
        check_spans(cap.caption, [(k, round(s, 2), round(e, 2)) for k, s, e in _all_events(sub)])
        assert cap.faithful, (keep, cap.faithfulness_issues)
        assert set(cap.model_ids) == {r.model_id for k in keep for r in getattr(sub, k)}
    speech_only = _caption(_subset(out, speech=1)).caption
    assert "music" not in speech_only.lower() and "phone" not in speech_only


def test_silent_recording_says_no_events():
    rec = RecordingRow("silence_5s", "file:///silence.wav", "ok", duration_s=5.0)
    cap = _caption(RecordingOutputs(rec, [], [], [], []))
    assert cap.num_events == 0 and cap.timeline == [] and cap.timeline_text == ""
    assert cap.caption.startswith(NO_EVENTS) and "(0.00 - 5.00)" in cap.caption
    assert cap.faithful and cap.model_ids == []


def test_unknown_label_stays_readable_and_speaker_unknown():
    out = example_outputs()
    sound = [dataclasses.replace(out.sound[1], events=[dataclasses.replace(out.sound[1].events[0], label="Zither")])]
    speech = [dataclasses.replace(out.speech[1], speaker=None, speakers=[], words=[])]
    cap = _caption(dataclasses.replace(out, sound=sound, speech=speech, music=[]))
    assert "A zither sound occurs (22.35 - 23.10)." in cap.caption
    assert 'Someone says "Revenue grew by twelve percent this quarter." (13.20 - 21.90).' in cap.caption
    assert cap.faithful, cap.faithfulness_issues


def test_deterministic_and_fast():
    batch = [example_outputs(f"rec{i:03d}") for i in range(200)]
    t0 = time.perf_counter()
    first = merge_recordings(batch, CFG)
    elapsed = time.perf_counter() - t0
    assert [c for c, _ in first] == [c for c, _ in merge_recordings(batch, CFG)]
    assert elapsed < 5.0, f"template merge of 200 recordings took {elapsed:.2f} s"
    assert len(collect_events(batch[0], CFG.max_music_tags, CFG.min_tag_score)) == 7


def test_caption_rows_convert_to_the_captions_table():
    import schemas

    caps = [c for c, _ in merge_recordings([example_outputs(), example_outputs("b")], CFG)]
    table = schemas.to_arrow("captions", caps)
    rows = table.to_pylist()
    assert rows[0]["links"][0]["segment_ids"] == caps[0].links[0].segment_ids
    assert rows[1]["faithful"] is True and rows[1]["timeline"][0]["branch"] == "music"


def test_audioset_labels_bursts_and_background_beds():
    """Rows as the sound branch writes them: AudioSet names, `count` bursts, a background bed."""
    from schemas.sound import SoundEvent, SoundRow

    rid = "street"
    rows = [
        SoundRow(rid, f"{rid}:a", 0.0, 30.0, "yamnet", events=[SoundEvent("Wind", 0.0, 30.0, 0.4, background=True)]),
        SoundRow(rid, f"{rid}:b", 4.0, 9.0, "yamnet", events=[
            SoundEvent("Dog", 4.2, 6.0, 0.8, count=2), SoundEvent("Whoosh, swoosh, swish", 7.0, 7.6, 0.5)]),
        SoundRow(rid, f"{rid}:c", 12.0, 14.0, "yamnet", events=[SoundEvent("Bark", 12.1, 12.9, 0.7)]),
    ]
    out = RecordingOutputs(RecordingRow(rid, "street.wav", "ok", duration_s=30.0), [], [], [], rows)
    cap = _caption(out)
    assert cap.caption == (
        "Wind blows in the background (0.00 - 30.00). A dog barks twice (4.20 - 6.00). "
        "A whoosh sound occurs (7.00 - 7.60). A dog barks again (12.10 - 12.90)."
    )
    assert cap.faithful, cap.faithfulness_issues


def test_speech_rows_as_the_speech_branch_writes_them():
    """A row whose hallucination guard dropped the text, and words partly outside diarization turns."""
    out = example_outputs()
    first = out.speech[0]
    gap_words = [dataclasses.replace(w, speaker=None) if i in (0, 4) else w for i, w in enumerate(first.words)]
    dropped = dataclasses.replace(out.speech[1], text="", words=[], flags=["compression_ratio 3.1 > 2.4"])
    cap = _caption(dataclasses.replace(out, speech=[dataclasses.replace(first, words=gap_words), dropped]))
    assert 'S01 says "Good morning everyone. Let\'s start with the budget." (7.00 - 10.40)' in cap.caption
    assert "S02 speaks, but no words were recognised (13.20 - 21.90)." in cap.caption
    assert cap.faithful, cap.faithfulness_issues


def test_segment_in_speech_and_music_branches():
    """One segment routed to both branches (speech over a song) gives two events with distinct keys; the
    word "song" inside the transcript does not count as naming the music."""
    out = example_outputs()
    speech = out.speech[1]
    song = dataclasses.replace(out.music[0], segment_id=speech.segment_id, start_s=speech.start_s,
                               end_s=speech.end_s, caption="", tags=[], tempo_bpm=None, key="A", mode="minor")
    talk = dataclasses.replace(speech, text="We are listening to a quiet song on the guitar.", words=[])
    cap = _caption(dataclasses.replace(out, speech=[talk], music=[song], sound=[]))
    assert cap.caption == (
        'S02 says "We are listening to a quiet song on the guitar." (13.20 - 21.90). '
        "While S02 speaks, music plays in A minor (13.20 - 21.90)."
    )
    assert cap.faithful, cap.faithfulness_issues
    assert [lk.event_keys for lk in cap.links] == [[f"speech/{speech.segment_id}"], [f"music/{speech.segment_id}"]]
    assert [lk.segment_ids for lk in cap.links] == [[speech.segment_id]] * 2


def test_music_split_in_two_segments_continues():
    out = example_outputs()
    first = dataclasses.replace(out.music[0], tags=[*out.music[0].tags[:1]], caption="")
    from schemas.common import LabelScore, segment_id

    second = dataclasses.replace(first, segment_id=segment_id("meeting_01", 6.5, 9.0), start_s=6.5, end_s=9.0,
                                 tags=[LabelScore("Electric_piano", 0.6), LabelScore("EDM", 0.5)])
    cap = _caption(dataclasses.replace(out, music=[first, second], speech=[], sound=[]))
    assert cap.caption == (
        "Music plays with piano at about 96 BPM in D major (0.00 - 6.50). "
        "The music continues with electric piano at about 96 BPM in D major, tagged EDM (6.50 - 9.00)."
    )
    assert cap.faithful, cap.faithfulness_issues


def _cut_utterance(second_speaker: str = "S01", gap_s: float = 0.0):
    """One sentence the segmenter cut at a phone ring's onset (10.0 s): two speech rows back to back."""
    from schemas.common import segment_id
    from schemas.sound import SoundEvent, SoundRow
    from schemas.speech import SpeechRow
    from merge.testing import _words

    rid = "cut"
    a = SpeechRow(rid, segment_id(rid, 5.0, 10.0), 5.0, 10.0, "You have successfully installed the", "en", "w",
                  words=_words("You have successfully installed the", 5.0, 10.0, "S01"), speaker="S01")
    b_start = 10.0 + gap_s
    b = SpeechRow(rid, segment_id(rid, b_start, 14.0), b_start, 14.0, "open source exchange.", "en", "w",
                  words=_words("open source exchange.", b_start, 14.0, second_speaker), speaker=second_speaker)
    ring = SoundRow(rid, segment_id(rid, 10.0, 12.0), 10.0, 12.0, "yamnet",
                    events=[SoundEvent("Telephone", 10.0, 12.0, 0.9)])
    return RecordingOutputs(RecordingRow(rid, "cut.wav", "ok", duration_s=15.0), [], [a, b], [], [ring])


def test_an_utterance_a_segment_cut_split_is_said_once():
    out = _cut_utterance()
    cap = _caption(out)
    assert cap.caption == ('S01 says "You have successfully installed the open source exchange." (5.00 - 14.00). '
                           "While S01 speaks, a phone rings (10.00 - 12.00).")
    assert cap.faithful, cap.faithfulness_issues
    assert cap.links[0].event_keys == [f"speech/{r.segment_id}" for r in out.speech]
    assert len(cap.timeline_text.splitlines()) == 3  # the timeline keeps every row
    # another speaker, or a pause between the rows: two utterances
    assert _caption(_cut_utterance("S02")).caption.count(" says ") == 2
    assert _caption(_cut_utterance(gap_s=0.5)).caption.count(" says ") == 2


def test_the_check_reads_a_joined_utterance_and_flags_half_of_one():
    from merge.faithfulness import check_caption

    out = _cut_utterance()
    events = collect_events(out, CFG.max_music_tags, CFG.min_tag_score)
    ring = "While S01 speaks, a phone rings (10.00 - 12.00)."
    whole = 'S01 says "You have successfully installed the open source exchange." (5.00 - 14.00). ' + ring
    assert check_caption(whole, events, 15.0, CFG).faithful
    half = 'S01 says "You have successfully installed the" (5.00 - 14.00). ' + ring
    report = check_caption(half, events, 15.0, CFG)
    assert not report.faithful and any("not the span of any event" in i for i in report.issues), report.issues


def test_one_piece_of_music_cut_in_two_is_said_once():
    out = example_outputs()
    from schemas.common import segment_id

    first = out.music[0]
    second = dataclasses.replace(first, segment_id=segment_id("meeting_01", 6.5, 9.0), start_s=6.5, end_s=9.0)
    cap = _caption(dataclasses.replace(out, music=[first, second], speech=[], sound=[]))
    assert cap.caption.startswith(
        "Music plays with piano and drums at about 96 BPM in D major, tagged pop (0.00 - 9.00)")
    assert cap.caption.count("Music plays") == 1 and "continues" not in cap.caption
    assert cap.faithful, cap.faithfulness_issues
    longer = dataclasses.replace(second, end_s=60.0)  # no 30 s limit for music
    cap = _caption(dataclasses.replace(out, music=[first, longer], speech=[], sound=[]))
    assert "(0.00 - 60.00)" in cap.caption and cap.faithful, cap.faithfulness_issues


def test_a_speaker_who_spoke_in_the_statement_before_goes_on():
    out = _cut_utterance(gap_s=0.5)
    cap = _caption(dataclasses.replace(out, sound=[]))
    assert cap.caption == ('S01 says "You have successfully installed the" (5.00 - 10.00). '
                           'S01 goes on: "open source exchange." (10.50 - 14.00).')
    assert cap.faithful, cap.faithfulness_issues


def test_a_long_monologue_is_not_joined_into_one_statement():
    from schemas.common import segment_id
    from schemas.speech import SpeechRow
    from merge.testing import _words

    rid = "talk"
    rows = [SpeechRow(rid, segment_id(rid, t, t + 20.0), t, t + 20.0, f"part {i} of the talk", "en", "w",
                      words=_words(f"part {i} of the talk", t, t + 20.0, "S01"), speaker="S01")
            for i, t in enumerate((0.0, 20.0, 40.0, 60.0))]
    cap = _caption(RecordingOutputs(RecordingRow(rid, "talk.wav", "ok", duration_s=80.0), [], rows, [], []))
    assert len(cap.links) == 4  # 20 s pieces back to back: each would pass 30 s joined to the next
    assert cap.faithful, cap.faithfulness_issues


def test_music_statement_adds_only_what_the_row_caption_adds():
    out = example_outputs()
    row = dataclasses.replace(out.music[0], caption="solo piano at about 96 BPM in D major, 4/4, moderately loud")
    cap = _caption(dataclasses.replace(out, music=[row], speech=[], sound=[]))
    assert cap.caption == ("Music plays with piano and drums at about 96 BPM in D major, tagged pop (0.00 - 6.50): "
                           "solo piano, 4/4, moderately loud.")
    generic = dataclasses.replace(row, caption="music with piano at about 96 BPM in D major, 4/4, steady")
    plain = _caption(dataclasses.replace(out, music=[generic], speech=[], sound=[]))
    assert plain.caption.endswith("(0.00 - 6.50): 4/4, steady.")
    assert _caption(dataclasses.replace(out, speech=[], sound=[])).caption.endswith(": a short upbeat piano jingle.")
    assert cap.faithful, cap.faithfulness_issues
