"""openai-whisper adapter: batched mel/encoder/decoder pass over all chunks, per-chunk word alignment.

Every waveform is cut into <= 30 s chunks; all chunks of a batch are decoded together (language
detection included, one language per chunk). Chunks whose decode looks degenerate are re-decoded
at the next temperature, again batched. Word times come from cross-attention DTW per chunk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotators.speech.asr_types import AsrResult, AsrSentence, AsrWord
from annotators.speech.chunking import ChunkRule, chunk_bounds

log = logging.getLogger(__name__)

WHISPER_SAMPLE_RATE = 16000
SECONDS_PER_TIMESTAMP = 0.02  # one timestamp token step


@dataclass(frozen=True)
class WhisperDecodeConfig:
    language: str | None = None  # None: detect per chunk
    task: str = "transcribe"
    beam_size: int | None = 1
    best_of: int | None = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4  # re-decode above this
    logprob_threshold: float = -1.0  # re-decode below this
    no_speech_threshold: float = 0.6  # ...unless the chunk is probably silence
    batch_size: int = 8  # chunks per decode call
    word_timestamps: bool = True
    initial_prompt: str | None = None
    chunk: ChunkRule = ChunkRule()


@dataclass
class _Chunk:
    item: int  # index of the input waveform
    offset_s: float
    audio: np.ndarray
    decoded: object | None = None  # whisper DecodingResult
    sentences: list[AsrSentence] = field(default_factory=list)
    language_probs: dict | None = None


def _decode(model, mel, options) -> list[tuple[object, dict | None]]:
    """whisper.decode over a batch of mels -> (DecodingResult, language probabilities) per mel.

    Beam search / best-of is made to work for batches > 1, and the language probabilities (which
    DecodingResult leaves out) are kept.
    """
    import inspect

    from whisper.decoding import DecodingTask

    # openai-whisper 20250625 repeats the tokens but not the audio features per beam/sample.
    repeat_features = "audio_features.repeat_interleave" not in inspect.getsource(DecodingTask.run)

    class Task(DecodingTask):
        language_probs: list | None = None

        def _get_audio_features(self, mel):
            features = super()._get_audio_features(mel)
            return features.repeat_interleave(self.n_group, dim=0) if repeat_features else features

        def _detect_language(self, audio_features, tokens):
            one_each = audio_features[:: self.n_group] if repeat_features else audio_features
            languages, self.language_probs = super()._detect_language(one_each, tokens)
            return languages, self.language_probs

    task = Task(model, options)
    results = task.run(mel)
    probs = task.language_probs or [None] * len(results)
    return list(zip(results, probs))


class _EncodedModel:
    """Stands in for the model in whisper.timing.find_alignment so the encoder does not run twice:
    its forward takes encoder output where Whisper.forward takes a mel."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def __call__(self, audio_features, tokens):
        return self._model.decoder(tokens, audio_features)


class OpenAIWhisperAdapter:
    """Adapter over an openai-whisper model object (see whisper_loader.load_whisper)."""

    sample_rate = WHISPER_SAMPLE_RATE

    def __init__(self, model, model_id: str, config: WhisperDecodeConfig, model_version: str | None = None):
        import whisper

        self.model = model
        self.model_id = model_id
        self.model_version = model_version
        self.config = config
        self.fp16 = model.device.type == "cuda"
        # English-only checkpoints have no language tokens to detect with.
        self.language = config.language if model.is_multilingual else "en"
        self.tokenizer = whisper.tokenizer.get_tokenizer(
            model.is_multilingual, num_languages=model.num_languages, task=config.task
        )

    # -- public ---------------------------------------------------------------------------------
    def transcribe_batch(self, audios: Sequence[np.ndarray]) -> list[AsrResult]:
        chunks = self._split(audios)
        active = [c for c in chunks if len(c.audio) > 0]
        for start in range(0, len(active), self.config.batch_size):
            self._decode_with_fallback(active[start : start + self.config.batch_size])
        results = [self._merge([c for c in chunks if c.item == i]) for i in range(len(audios))]
        if len(results) != len(audios):
            raise RuntimeError(f"whisper adapter returned {len(results)} results for {len(audios)} inputs")
        return results

    # -- chunking and decoding ------------------------------------------------------------------
    def _split(self, audios: Sequence[np.ndarray]) -> list[_Chunk]:
        chunks = []
        for i, audio in enumerate(audios):
            audio = np.ascontiguousarray(audio, dtype=np.float32)
            for lo, hi in chunk_bounds(audio, self.sample_rate, self.config.chunk):
                chunks.append(_Chunk(item=i, offset_s=lo / self.sample_rate, audio=audio[lo:hi]))
        return chunks

    def _mels(self, chunks: Sequence[_Chunk]):
        import torch
        import whisper

        n_mels = self.model.dims.n_mels
        mels = [
            whisper.pad_or_trim(
                whisper.log_mel_spectrogram(c.audio, n_mels, padding=whisper.audio.N_SAMPLES, device=self.model.device),
                whisper.audio.N_FRAMES,
            )
            for c in chunks
        ]
        return torch.stack(mels)

    def _options(self, temperature: float):
        import whisper

        cfg = self.config
        if temperature > 0:
            greedy_or_beam = {"best_of": cfg.best_of}
        else:  # beam size 1 is greedy decoding, without the beam decoder's overhead
            greedy_or_beam = {"beam_size": cfg.beam_size if cfg.beam_size and cfg.beam_size > 1 else None}
        return whisper.DecodingOptions(
            task=cfg.task,
            language=self.language,
            temperature=temperature,
            fp16=self.fp16,
            prompt=cfg.initial_prompt,
            **greedy_or_beam,
        )

    def _needs_retry(self, result) -> bool:
        cfg = self.config
        if result.no_speech_prob > cfg.no_speech_threshold and result.avg_logprob < cfg.logprob_threshold:
            return False  # silence: a retry would only invent text
        return result.compression_ratio > cfg.compression_ratio_threshold or result.avg_logprob < cfg.logprob_threshold

    def _encode(self, chunks: Sequence[_Chunk]):
        """One batched encoder pass; decoding, fallbacks and word alignment all reuse its output."""
        import torch

        tic = time.perf_counter()
        mel = self._mels(chunks)
        with torch.no_grad():
            features = self.model.embed_audio(mel.half() if self.fp16 else mel)
        log.debug("encoded %d chunks in %.2fs", len(chunks), time.perf_counter() - tic)
        return features

    def _decode_with_fallback(self, chunks: list[_Chunk]) -> None:
        import torch

        features = self._encode(chunks)
        pending = list(range(len(chunks)))
        for temperature in self.config.temperatures:
            tic = time.perf_counter()
            with torch.no_grad():
                results = _decode(self.model, features[pending], self._options(temperature))
            log.debug("decoded %d chunks at T=%.1f in %.2fs", len(pending), temperature, time.perf_counter() - tic)
            for idx, (result, lang_probs) in zip(pending, results):
                chunks[idx].decoded = result
                if lang_probs is not None:
                    chunks[idx].language_probs = lang_probs
            pending = [idx for idx in pending if self._needs_retry(chunks[idx].decoded)]
            if not pending:
                break
        tic = time.perf_counter()
        for chunk, chunk_features in zip(chunks, features):
            chunk.sentences = self._sentences(chunk, chunk_features if self.config.word_timestamps else None)
        log.debug("aligned words of %d chunks in %.2fs", len(chunks), time.perf_counter() - tic)

    # -- turning tokens into sentences and words ------------------------------------------------
    def _split_sentences(self, tokens: list[int], duration_s: float) -> list[dict]:
        """Whisper segments from timestamp tokens: <|t0|> text <|t1|>[<|t1|>] text <|t2|> ..."""
        ts_begin = self.tokenizer.timestamp_begin
        out: list[dict] = []
        start: float | None = None
        text: list[int] = []
        for tok in tokens:
            if tok < ts_begin:
                if tok < self.tokenizer.eot:
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
            seg["text"] = self.tokenizer.decode(seg["tokens"])
        return [seg for seg in out if seg["text"].strip()]

    def _sentences(self, chunk: _Chunk, features) -> list[AsrSentence]:
        from whisper.audio import HOP_LENGTH
        from whisper.timing import add_word_timestamps

        duration = len(chunk.audio) / self.sample_rate
        segs = self._split_sentences(list(chunk.decoded.tokens), duration)
        if features is not None and segs:
            # `mel` is handed on to the model's forward; _EncodedModel takes it as encoder output.
            add_word_timestamps(segments=segs, model=_EncodedModel(self.model), tokenizer=self.tokenizer,
                                mel=features, num_frames=len(chunk.audio) // HOP_LENGTH, last_speech_timestamp=0.0)
        off = chunk.offset_s
        return [
            AsrSentence(
                text=seg["text"].strip(),
                start_s=float(off + min(seg["start"], duration)),
                end_s=float(off + min(seg["end"], duration)),
                words=tuple(
                    AsrWord(w["word"].strip(), float(off + min(w["start"], duration)),
                            float(off + min(w["end"], duration)), float(w["probability"]))
                    for w in seg.get("words", ())
                    if w["word"].strip()
                ),
            )
            for seg in segs
        ]

    # -- merging chunks back into one result per input -----------------------------------------
    def _merge(self, chunks: list[_Chunk]) -> AsrResult:
        from whisper.utils import compression_ratio

        decoded = [c for c in chunks if c.decoded is not None]
        if not decoded:
            return AsrResult("", None, None, (), None, None, None)
        sentences = tuple(s for c in decoded for s in c.sentences)
        # The decoder's own text keeps the language's spacing (none between CJK sentences).
        text = " ".join(t for t in (c.decoded.text.strip() for c in decoded) if t)
        main = max(decoded, key=lambda c: len(c.audio))
        lang_prob = (main.language_probs or {}).get(main.decoded.language)
        weights = np.array([max(1, len(c.decoded.tokens)) for c in decoded], dtype=float)
        notes = (f"chunked(n={len(chunks)})",) if len(chunks) > 1 else ()
        return AsrResult(
            text=text,
            language=main.decoded.language,
            language_prob=None if lang_prob is None else float(lang_prob),
            sentences=sentences,
            avg_logprob=float(np.average([c.decoded.avg_logprob for c in decoded], weights=weights)),
            no_speech_prob=float(min(c.decoded.no_speech_prob for c in decoded)),
            compression_ratio=float(compression_ratio(text)) if text else None,
            temperature=float(max(c.decoded.temperature for c in decoded)),
            notes=notes,
        )
