"""Window packing on synthetic signals: layout of windows, and words split back to their segments."""

from __future__ import annotations

import numpy as np

from annotators.speech.asr_types import AsrResult, AsrSentence, AsrWord
from annotators.speech.packing import PackRule, join_words, pack, unpack

SR = 16000


def _tone(seconds: float, value: float = 0.1) -> np.ndarray:
    return np.full(int(seconds * SR), value, np.float32)


def test_short_segments_share_a_window_with_pads_at_its_edges_and_between_them():
    audios = [_tone(4.0, 0.1), _tone(5.0, 0.2), _tone(3.0, 0.3)]
    starts = [1.0, 10.0, 15.0]  # 15.0 is contiguous with the second (10 + 5)
    (window,) = pack(audios, starts, SR, PackRule(pad_s=0.3))
    assert [p.item for p in window.pieces] == [0, 1, 2]
    assert [round(p.window_offset_s, 3) for p in window.pieces] == [0.3, 4.6, 9.6]
    assert len(window.audio) == int(12.9 * SR)
    assert np.all(window.audio[int(4.3 * SR) : int(4.6 * SR)] == 0)  # no context given: the pad is silence
    assert window.audio[int(9.6 * SR)] == np.float32(0.3)  # contiguous: no pad


def test_pads_are_real_context_but_never_a_neighbours_audio():
    audios = [_tone(2.0, 0.1), _tone(2.0, 0.2)]
    before = [_tone(0.5, 0.01), _tone(0.5, 0.02)]
    after = [_tone(0.5, 0.03), _tone(0.5, 0.04)]
    # The gap between the two segments is 0.125 s: only that much of each context lies between them.
    (window,) = pack(audios, [5.0, 7.125], SR, PackRule(pad_s=0.4), before=before, after=after)
    audio = window.audio
    assert np.all(audio[: int(0.4 * SR)] == np.float32(0.01))  # lead-in: room tone before the first segment
    gap = audio[int(2.4 * SR) : int(2.8 * SR)]
    assert np.count_nonzero(gap == np.float32(0.03)) == int(0.125 * SR)  # the first segment's tail, up to the gap
    assert np.count_nonzero(gap == np.float32(0.02)) == int(0.125 * SR)  # the next one's lead-in, likewise
    assert np.all(audio[-int(0.4 * SR) :] == np.float32(0.04))  # closing tail


def test_windows_never_exceed_30s_and_keep_time_order():
    audios = [_tone(7.0) for _ in range(9)]
    windows = pack(audios, [10.0 * i for i in range(9)], SR)
    assert all(len(w.audio) <= 30 * SR for w in windows)
    assert [p.item for w in windows for p in w.pieces] == list(range(9))
    assert len(windows) == 3  # 4 x 7 s + 3 pads = 28.9 s per window


def test_a_long_segment_is_cut_at_its_quietest_point_and_packs_its_tail():
    rng = np.random.default_rng(0)
    long = (rng.normal(0, 0.1, 40 * SR)).astype(np.float32)
    long[int(26 * SR) : int(26.5 * SR)] = 0  # the quiet moment inside the search range
    windows = pack([long, _tone(3.0)], [0.0, 45.0], SR)
    first, second = windows
    assert [p.item for p in first.pieces] == [0]
    assert 26.0 <= first.pieces[0].duration_s <= 26.5
    assert [p.item for p in second.pieces] == [0, 1]  # the 14 s tail and the next segment share a window
    assert second.pieces[0].segment_offset_s == first.pieces[0].duration_s
    assert np.all(first.audio[-int(0.3 * SR) :] == 0)  # inside a segment the pad is silence, not the next chunk


def test_packing_off_gives_each_segment_its_own_window():
    windows = pack([_tone(2.0), _tone(2.0)], [0.0, 5.0], SR, PackRule(enabled=False))
    assert [[p.item for p in w.pieces] for w in windows] == [[0], [1]]


def _word(text: str, start: float, end: float, spaced: bool = True) -> AsrWord:
    return AsrWord(text, start, end, 0.9, spaced)


def test_words_go_back_to_the_segment_holding_their_midpoint_in_segment_time():
    # Lead-in 0-0.3; segment 0: 0.3-4.3 s of the window; pad 4.3-4.6; segment 1 starts at 4.6.
    (window,) = pack([_tone(4.0), _tone(3.0)], [0.0, 20.0], SR, PackRule(pad_s=0.3))
    words = (
        _word("one", 0.8, 1.3), _word("two", 3.9, 4.4),  # midpoint 4.15: segment 0 (its end is clipped to 4.0)
        _word("three", 4.4, 4.9),  # midpoint 4.65: segment 1, starts in the pad -> clipped to 0.0
        _word("four", 5.3, 5.8),
    )
    sentence = AsrSentence("one two three four", 0.8, 5.8, words)
    res = AsrResult("one two three four", "en", 0.99, (sentence,), -0.2, 0.01, 1.1)
    first, second = unpack([window], [res], 2)
    assert [w.word for w in first.words] == ["one", "two"]
    assert [w.word for w in second.words] == ["three", "four"]
    assert first.text == "one two" and second.text == "three four"
    assert first.words[1].end_s == 4.0
    assert second.words[0].start_s == 0.0 and round(second.words[1].start_s, 3) == 0.7
    assert all(0 <= w.start_s <= w.end_s <= 4.0 for w in first.words)
    assert first.language == second.language == "en"


def test_a_word_in_the_middle_of_a_pad_goes_to_the_nearer_segment_and_is_never_doubled():
    (window,) = pack([_tone(2.0), _tone(2.0)], [0.0, 10.0], SR, PackRule(pad_s=1.0))
    assert [p.window_offset_s for p in window.pieces] == [1.0, 4.0]
    near_second = _word("late", 3.6, 3.9)  # in the pad 3.0-4.0, nearer to segment 1
    res = AsrResult("late", "en", 0.9, (AsrSentence("late", 3.6, 3.9, (near_second,)),), -0.3, 0.02, 1.0)
    first, second = unpack([window], [res], 2)
    assert first.words == [] and [w.word for w in second.words] == ["late"]


def test_segments_spread_over_two_windows_take_the_main_window_language():
    rng = np.random.default_rng(1)
    long = rng.normal(0, 0.1, 36 * SR).astype(np.float32)
    windows = pack([long], [0.0], SR)
    assert len(windows) == 2
    a = AsrResult("bonjour", "fr", 0.8, (AsrSentence("bonjour", 1.0, 2.0, (_word("bonjour", 1.0, 2.0),)),), -0.2, 0.1, 1.0)
    b = AsrResult("merci", "fr", 0.7, (AsrSentence("merci", 0.5, 1.0, (_word("merci", 0.5, 1.0),)),), -0.4, 0.05, 1.0)
    (res,) = unpack(windows, [a, b], 1)
    assert res.text == "bonjour merci" and res.language == "fr"
    assert res.notes == ("chunked(n=2)",)
    assert res.no_speech_prob == 0.05
    first, tail = windows[0].pieces[0], windows[1].pieces[0]
    assert tail.segment_offset_s == first.duration_s
    assert abs(res.words[0].start_s - (1.0 - first.window_offset_s)) < 1e-6
    assert abs(res.words[1].start_s - (tail.segment_offset_s + 0.5 - tail.window_offset_s)) < 1e-6


def test_words_are_joined_as_written():
    words = [_word("www", 0, 0.1), _word(".asterisk", 0.1, 0.2, spaced=False), _word(".org", 0.2, 0.3, spaced=False),
             _word("ill", 0.4, 0.5), _word("-disposed", 0.5, 0.6, spaced=False)]
    assert join_words(words, "en") == "www.asterisk.org ill-disposed"
    assert join_words([_word("你好", 0, 1), _word("世界", 1, 2)], "zh") == "你好世界"
