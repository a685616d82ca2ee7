"""Whisper output tokens -> sentences with words: shared by the openai-whisper and CTranslate2 adapters."""

from __future__ import annotations

from annotators.speech.asr_types import AsrSentence, AsrWord

SECONDS_PER_TIMESTAMP = 0.02  # one timestamp token step


def split_sentences(tokenizer, tokens: list[int], duration_s: float) -> list[dict]:
    """Whisper segments from timestamp tokens: <|t0|> text <|t1|>[<|t1|>] text <|t2|> ...

    Returns openai-whisper's segment dicts (seek, start, end, tokens, text), which its word aligner takes."""
    ts_begin = tokenizer.timestamp_begin
    out: list[dict] = []
    start: float | None = None
    text: list[int] = []
    for tok in tokens:
        if tok < ts_begin:
            if tok < tokenizer.eot:
                text.append(tok)
            continue
        time = min((tok - ts_begin) * SECONDS_PER_TIMESTAMP, duration_s)
        if text:
            out.append({"seek": 0, "start": start or 0.0, "end": time, "tokens": text})
            text = []
        start = time
    if text:
        out.append({"seek": 0, "start": start or 0.0, "end": duration_s, "tokens": text})
    for seg in out:
        seg["text"] = tokenizer.decode(seg["tokens"])
    return [seg for seg in out if seg["text"].strip()]


def to_sentences(segs: list[dict], duration_s: float) -> list[AsrSentence]:
    """Segment dicts (with "words" once aligned) -> AsrSentences in window time, clipped to the window."""

    def clip(t: float) -> float:
        return float(min(max(t, 0.0), duration_s))

    return [
        AsrSentence(
            text=seg["text"].strip(),
            start_s=clip(seg["start"]),
            end_s=clip(seg["end"]),
            words=tuple(
                AsrWord(w["word"].strip(), clip(w["start"]), clip(w["end"]), float(w["probability"]),
                        spaced=w["word"][:1].isspace())
                for w in seg.get("words", ())
                if w["word"].strip()
            ),
        )
        for seg in segs
    ]


SENTENCE_END_MARKS = ".。!！?？"


def split_at_sentence_ends(segs: list[dict]) -> list[dict]:
    """Cut aligned segment dicts after each word that ends a sentence (a text-only decode is one segment per
    window); each part's text is its words as written and its span is theirs."""
    out: list[dict] = []
    for seg in segs:
        words = seg.get("words") or []
        if not words:
            out.append(seg)
            continue
        part: list[dict] = []
        for i, w in enumerate(words):
            part.append(w)
            if w["word"].strip()[-1:] in SENTENCE_END_MARKS or i == len(words) - 1:
                out.append({"seek": 0, "start": part[0]["start"], "end": part[-1]["end"], "tokens": [],
                            "text": "".join(x["word"] for x in part).strip(), "words": part})
                part = []
    return out
