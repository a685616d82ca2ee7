"""The Whisper speech annotator: packed, batched ASR with word times, guards, speakers and paralinguistics.

The stage owns resampling, packing segments into 30 s windows, guards and row building; the model lives
in an AsrAdapter (openai-whisper or CTranslate2), so another backend is one new adapter.

Determinism: the segments of a recording are packed in time order and, by default, decoded in batches of
that recording's windows only, with fallback sampling seeded per window. A recording's transcripts then
depend on nothing but the recording (not on which other recordings shared the call, nor on timing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from annotators.base import Annotator, AnnotatorParams, Resources, SegmentAudio
from annotators.registry import register_annotator
from annotators.speech.asr_types import AsrAdapter, AsrResult
from annotators.speech.chunking import ChunkRule
from annotators.speech.guards import GuardConfig, check, loud_level_dbfs
from annotators.speech.packing import PackRule
from annotators.speech.transcribe import model_audio, transcribe_segments
from annotators.speech.paralinguistics import ParalinguisticParams
from annotators.speech.row_builder import build_row
from schemas.speech import SpeechRow

log = logging.getLogger(__name__)


Engine = Literal["ctranslate2", "openai-whisper"]


class WhisperParams(AnnotatorParams):
    model: str = "pkg:whisper-base"  # size name, .pt path, CTranslate2 folder, or pkg:whisper-base / pkg:whisper-tiny.en
    # ctranslate2: int8 on CPU / float16 on GPU, ~3x faster on CPU than openai-whisper's float32 (docs/benchmarks.md)
    engine: Engine = "ctranslate2"
    compute_type: str = "auto"  # ctranslate2 only: auto (int8 on CPU, float16 on CUDA), int8, float32, ...
    language: str | None = None  # None: detect per segment
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = Field(5, ge=1)  # 5 as faster-whisper / WhisperX; 1 (greedy) is ~1.2x faster and less accurate
    best_of: int = Field(5, ge=1)
    temperatures: tuple[float, ...] = Field((0.0, 0.2, 0.4, 0.6, 0.8, 1.0), min_length=1)  # fallback order
    decode_batch_size: int = Field(8, ge=1)  # 30 s windows encoded/decoded together (VRAM/RAM bound)
    pack_windows: bool = True  # lay short segments of a recording end to end into 30 s windows
    pack_max_s: float = Field(30.0, ge=5.0, le=30.0)  # window length packed up to (Whisper's window is 30 s)
    pack_pad_s: float = Field(0.5, ge=0.0, le=2.0)  # room tone kept at window edges and between two segments
    # False (default): windows are batched per recording, so output never depends on batch neighbours.
    # True: windows of all recordings in a call share batches (fuller GPU batches for many short files).
    batch_across_recordings: bool = False
    word_timestamps: bool = True
    timestamp_tokens: bool = False  # False: text-only decode, times from word alignment (as WhisperX)
    initial_prompt: str | None = None
    compression_ratio_threshold: float = 2.4
    logprob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    ngram_n: int = 3
    ngram_max_repeats: int = 4
    min_speech_score: float = 0.15
    speech_labels: tuple[str, ...] = ("speech", "singing")
    min_speech_activity: float = Field(0.5, ge=0.0, le=1.0)  # voice activity share that overrules a low speech score
    drop_repetitions: bool = False
    silence_dbfs: float = -50.0
    anomaly_no_speech_prob: float = 0.3
    speaker_max_gap_s: float = 0.5  # a word outside every turn takes the nearest turn this close
    paralinguistics: ParalinguisticParams = ParalinguisticParams()


@register_annotator("whisper")
class WhisperAnnotator(Annotator):
    branch = "speech"
    Params = WhisperParams
    whole_recordings = True  # packing needs every speech segment of a recording in one call
    version = "2"  # 2: pitch by YIN with its aperiodicity as voicing (was pYIN: 28x the CPU)
    resources = Resources(cpus=1.0, gpus=0.0, memory_gb=2.0)

    params: WhisperParams
    adapter: AsrAdapter | None = None

    @property
    def model_id(self) -> str:
        return self.params.model

    @property
    def model_version(self) -> str | None:
        return self.adapter.model_version if self.adapter is not None else None

    def setup(self) -> None:
        from annotators.speech.whisper_adapter import WhisperDecodeConfig

        p = self.params
        config = WhisperDecodeConfig(
            language=p.language, task=p.task, beam_size=p.beam_size, best_of=p.best_of,
            temperatures=p.temperatures, compression_ratio_threshold=p.compression_ratio_threshold,
            logprob_threshold=p.logprob_threshold, no_speech_threshold=p.no_speech_threshold,
            batch_size=p.decode_batch_size, word_timestamps=p.word_timestamps, timestamp_tokens=p.timestamp_tokens, initial_prompt=p.initial_prompt,
        )
        self.adapter = load_adapter(p.engine, p.model, self.device, config, p.compute_type)
        self.pack_rule = PackRule(enabled=p.pack_windows, max_s=p.pack_max_s, pad_s=p.pack_pad_s,
                                  chunk=ChunkRule(max_s=p.pack_max_s))
        self.guards = GuardConfig(
            no_speech_threshold=p.no_speech_threshold, logprob_threshold=p.logprob_threshold,
            compression_ratio_threshold=p.compression_ratio_threshold, ngram_n=p.ngram_n,
            ngram_max_repeats=p.ngram_max_repeats, min_speech_score=p.min_speech_score,
            speech_labels=p.speech_labels, min_speech_activity=p.min_speech_activity, drop_repetitions=p.drop_repetitions, silence_dbfs=p.silence_dbfs,
            anomaly_no_speech_prob=p.anomaly_no_speech_prob,
        )

    def annotate(self, batch: Sequence[SegmentAudio]) -> list[SpeechRow]:
        if self.adapter is None:
            raise RuntimeError("WhisperAnnotator.setup() must run before annotate()")
        audios = [self._prepare(seg) for seg in batch]
        results = transcribe_segments(self.adapter, batch, audios, self.pack_rule, self.params.batch_across_recordings)
        if len(results) != len(batch):
            raise RuntimeError(f"ASR adapter returned {len(results)} results for {len(batch)} segments")
        return [self._row(seg, audio, res) for seg, audio, res in zip(batch, audios, results)]

    def _prepare(self, seg: SegmentAudio) -> np.ndarray:
        return model_audio(seg.samples, seg.sample_rate, self.adapter.sample_rate)

    def _row(self, seg: SegmentAudio, audio: np.ndarray, res: AsrResult) -> SpeechRow:
        level = loud_level_dbfs(audio, self.adapter.sample_rate)
        verdict = check(res, seg.class_scores, self.guards, level_dbfs=level)
        return build_row(seg, audio, self.adapter.sample_rate, res, verdict, self.params,
                         model_id=self.model_id, model_version=self.model_version)


def load_adapter(engine: str, source: str, device: str, config, compute_type: str = "auto") -> AsrAdapter:
    """The model of `source` (loaded once per process) behind the adapter of `engine`."""
    if engine == "ctranslate2":
        from annotators.speech.ct2_adapter import Ct2WhisperAdapter
        from annotators.speech.ct2_sources import load_ct2_whisper

        model, version = load_ct2_whisper(source, device, compute_type)
        return Ct2WhisperAdapter(model, source, config, model_version=version)
    from annotators.speech.whisper_adapter import OpenAIWhisperAdapter
    from annotators.speech.whisper_loader import load_whisper, model_version

    return OpenAIWhisperAdapter(load_whisper(source, device), source, config, model_version=model_version(source))
