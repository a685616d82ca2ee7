"""The Whisper speech annotator: batched ASR with word times, guards, speakers and paralinguistics.

The stage owns resampling, batching, guards and row building; the model lives in an AsrAdapter
(openai-whisper here), so another backend is one new adapter.
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
from annotators.speech.guards import GuardConfig, check, loud_level_dbfs
from annotators.speech.paralinguistics import ParalinguisticParams
from annotators.speech.row_builder import build_row
from schemas.speech import SpeechRow

log = logging.getLogger(__name__)


class WhisperParams(AnnotatorParams):
    model: str = "pkg:whisper-base"  # size name, .pt path, CTranslate2 folder, or pkg:whisper-base / pkg:whisper-tiny.en
    language: str | None = None  # None: detect per segment
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = Field(1, ge=1)  # 1: greedy (whisper.transcribe's default); 5 is better and slower on CPU
    best_of: int = Field(5, ge=1)
    temperatures: tuple[float, ...] = Field((0.0, 0.2, 0.4, 0.6, 0.8, 1.0), min_length=1)  # fallback order
    decode_batch_size: int = Field(8, ge=1)  # 30 s windows encoded/decoded together (VRAM/RAM bound)
    word_timestamps: bool = True
    initial_prompt: str | None = None
    compression_ratio_threshold: float = 2.4
    logprob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    ngram_n: int = 3
    ngram_max_repeats: int = 4
    min_speech_score: float = 0.15
    speech_labels: tuple[str, ...] = ("speech", "singing")
    drop_repetitions: bool = False
    silence_dbfs: float = -50.0
    anomaly_no_speech_prob: float = 0.3
    speaker_max_gap_s: float = 0.5  # a word outside every turn takes the nearest turn this close
    paralinguistics: ParalinguisticParams = ParalinguisticParams()


@register_annotator("whisper")
class WhisperAnnotator(Annotator):
    branch = "speech"
    Params = WhisperParams
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
        from annotators.speech.whisper_adapter import OpenAIWhisperAdapter, WhisperDecodeConfig
        from annotators.speech.whisper_loader import load_whisper, model_version

        p = self.params
        config = WhisperDecodeConfig(
            language=p.language, task=p.task, beam_size=p.beam_size, best_of=p.best_of,
            temperatures=p.temperatures, compression_ratio_threshold=p.compression_ratio_threshold,
            logprob_threshold=p.logprob_threshold, no_speech_threshold=p.no_speech_threshold,
            batch_size=p.decode_batch_size, word_timestamps=p.word_timestamps, initial_prompt=p.initial_prompt,
        )
        model = load_whisper(p.model, self.device)
        self.adapter = OpenAIWhisperAdapter(model, p.model, config, model_version=model_version(p.model))
        self.guards = GuardConfig(
            no_speech_threshold=p.no_speech_threshold, logprob_threshold=p.logprob_threshold,
            compression_ratio_threshold=p.compression_ratio_threshold, ngram_n=p.ngram_n,
            ngram_max_repeats=p.ngram_max_repeats, min_speech_score=p.min_speech_score,
            speech_labels=p.speech_labels, drop_repetitions=p.drop_repetitions, silence_dbfs=p.silence_dbfs,
            anomaly_no_speech_prob=p.anomaly_no_speech_prob,
        )

    def annotate(self, batch: Sequence[SegmentAudio]) -> list[SpeechRow]:
        if self.adapter is None:
            raise RuntimeError("WhisperAnnotator.setup() must run before annotate()")
        audios = [self._prepare(seg) for seg in batch]
        results = self.adapter.transcribe_batch(audios)
        if len(results) != len(batch):
            raise RuntimeError(f"ASR adapter returned {len(results)} results for {len(batch)} segments")
        return [self._row(seg, audio, res) for seg, audio, res in zip(batch, audios, results)]

    def _prepare(self, seg: SegmentAudio) -> np.ndarray:
        audio = np.nan_to_num(np.asarray(seg.samples, dtype=np.float32).reshape(-1))
        target = self.adapter.sample_rate
        if seg.sample_rate != target and len(audio):
            import soxr

            audio = soxr.resample(audio, seg.sample_rate, target).astype(np.float32)
        return np.clip(audio, -1.0, 1.0)

    def _row(self, seg: SegmentAudio, audio: np.ndarray, res: AsrResult) -> SpeechRow:
        level = loud_level_dbfs(audio, self.adapter.sample_rate)
        verdict = check(res, seg.class_scores, self.guards, level_dbfs=level)
        return build_row(seg, audio, self.adapter.sample_rate, res, verdict, self.params,
                         model_id=self.model_id, model_version=self.model_version)
