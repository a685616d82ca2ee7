"""SpeakerDiarizer: pyannote segmentation (local speakers per 10 s chunk) + GE2E embeddings + agglomerative
clustering -> recording-level speaker turns labelled S01, S02, ... in order of first appearance.

pyannote.audio's own SpeakerDiarization pipeline is not used: its embedding loader only takes hub/checkpoint
names and its 4.x default clustering needs a gated PLDA. The steps are the same (local segmentation,
per-(chunk, speaker) embeddings, clustering with a cannot-link constraint inside a chunk, overlap-averaged
reconstruction), with a sparser window step so that it stays cheap on CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from annotators.base import SpeakerTurn

log = logging.getLogger(__name__)


class DiarizerParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    segmentation_model: str = "pkg:pyannote-segmentation-3.0"  # or "pyannote/segmentation-3.0", a path
    embedding_model: str = "pkg:resemblyzer"  # or a local GE2E checkpoint (.pt)
    step_s: float = Field(7.5, gt=0, description="hop of the 10 s segmentation window")
    batch_size: int = Field(16, ge=1)
    clustering_threshold: float = Field(
        0.17, gt=0, lt=2, description="cosine distance between speaker centroids above which clusters stay apart "
        "(GE2E voices are close: 0.1 split one real speaker, 0.3 merged two on our test mixes)")
    min_embedding_speech_s: float = Field(0.6, ge=0, description="less speech than this in a chunk: no embedding")
    min_cluster_speech_s: float = Field(3.0, ge=0, description="a speaker needs this much speech in total")
    min_cluster_fraction: float = Field(
        0.01, ge=0, lt=1, description="... and this share of all speech, so that in long recordings stray "
        "clusters (noise, music taken for a voice) do not become speakers")
    max_conflict_ratio: float = Field(
        0.1, ge=0, description="clusters sharing chunks as different local speakers merge only below this "
        "share of conflicting pairs (segmentation slips are tolerated in large clusters)")
    reliable_speech_s: float = Field(
        2.0, ge=0, description="with a known num_speakers, only embeddings of this much speech form the clusters "
        "(so that stray short ones cannot take a speaker's place); the rest are assigned after")
    max_embedding_speech_s: float = Field(8.0, gt=0, description="cap on audio embedded per (chunk, speaker)")
    min_clean_speech_s: float = Field(
        0.5, ge=0, description="a local speaker needs this much overlap-free speech in its chunk; sound events "
        "over speech are often taken for a second, overlapping speaker")
    min_similarity: float = Field(0.7, ge=-1, le=1, description="cosine to the nearest speaker centroid, else dropped")
    min_duration_on_s: float = Field(0.2, ge=0)
    min_duration_off_s: float = Field(0.5, ge=0)
    min_audio_s: float = Field(0.3, ge=0, description="shorter recordings get no turns")


@dataclass(frozen=True)
class _LocalSpeakers:
    """The (chunk, local speaker) pairs that speak enough to embed."""

    chunk: np.ndarray  # (n,)
    speaker: np.ndarray  # (n,)
    speech_s: np.ndarray  # (n,)
    embeddings: np.ndarray  # (n, dim)


class SpeakerDiarizer:
    Params = DiarizerParams

    def __init__(self, params: DiarizerParams | None = None, device: str = "cpu"):
        self.params = params if params is not None else DiarizerParams()
        self.device = device
        self._segmentation = None
        self._embedder = None

    def setup(self) -> None:
        from annotators.speech.diarization.embedding import load_speaker_embedder
        from annotators.speech.diarization.segmentation import load_segmentation_model

        if self._segmentation is None:
            self._segmentation = load_segmentation_model(self.params.segmentation_model, self.device)
            self._embedder = load_speaker_embedder(self.params.embedding_model, self.device)

    @property
    def model_id(self) -> str:
        return f"{self.params.segmentation_model}+{self.params.embedding_model}"

    def diarize(self, samples: np.ndarray, sample_rate: int, num_speakers: int | None = None) -> list[SpeakerTurn]:
        """Speaker turns of one whole recording (float32 mono). `num_speakers`, when known, is honoured."""
        self.setup()
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not np.isfinite(samples).all():  # copy only when needed: a 2 h recording is 460 MB
            samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
        samples = _to_model_rate(samples, sample_rate, self._segmentation.sample_rate)
        duration_s = len(samples) / self._segmentation.sample_rate
        if duration_s < self.params.min_audio_s or not np.any(samples):
            return []
        local = self._segmentation.local_activity(samples, self.params.step_s, self.params.batch_size)
        speakers = self._embed_local_speakers(samples, local)
        if len(speakers.chunk) == 0:
            return []
        speaker_of, n_global = self._cluster(speakers, local.activity.shape[0], local.activity.shape[2], num_speakers)
        return self._turns(local, speaker_of, n_global, duration_s)

    def _embed_local_speakers(self, samples: np.ndarray, local) -> _LocalSpeakers:
        from annotators.speech.diarization.speech_masks import local_speaker_audio

        p = self.params
        clips, chunk_ids, spk_ids, speech = [], [], [], []
        sr = self._segmentation.sample_rate
        for c in range(local.activity.shape[0]):
            for k in range(local.activity.shape[2]):
                found = local_speaker_audio(samples, sr, local, c, k, p.max_embedding_speech_s)
                if found is None or found.clean_s < p.min_clean_speech_s:
                    continue
                if len(found.audio) >= p.min_embedding_speech_s * sr:
                    clips.append(found.audio)
                    chunk_ids.append(c)
                    spk_ids.append(k)
                    speech.append(found.speech_s)
        return _LocalSpeakers(np.array(chunk_ids, dtype=int), np.array(spk_ids, dtype=int),
                              np.array(speech), self._embedder.embed(clips))

    def _cluster(self, speakers: _LocalSpeakers, n_chunks: int, n_local: int, num_speakers: int | None):
        from annotators.speech.diarization import clustering

        p = self.params
        labels = clustering.agglomerate(speakers.embeddings, p.clustering_threshold, None, speakers.chunk,
                                        p.max_conflict_ratio)
        min_speech = max(p.min_cluster_speech_s, p.min_cluster_fraction * float(speakers.speech_s.sum()))
        labels = clustering.drop_small_clusters(labels, speakers.speech_s, min_speech, keep_at_least=1)
        if num_speakers is not None:
            # exactly num_speakers clusters, formed from the embeddings of the speakers that survived above
            basis = (labels >= 0) & (speakers.speech_s >= p.reliable_speech_s)
            if basis.sum() < num_speakers:
                basis = labels >= 0 if (labels >= 0).sum() >= num_speakers else np.ones_like(basis)
            labels = np.full(len(speakers.chunk), -1)
            labels[basis] = clustering.agglomerate(speakers.embeddings[basis], p.clustering_threshold, num_speakers,
                                                   speakers.chunk[basis], p.max_conflict_ratio)
        kept = labels >= 0
        centroids = clustering.centroids_of(speakers.embeddings[kept], labels[kept], speakers.speech_s[kept])
        assigned = clustering.assign_with_constraints(speakers.embeddings, speakers.chunk, centroids, p.min_similarity)
        speaker_of = np.full((n_chunks, n_local), -1)
        speaker_of[speakers.chunk, speakers.speaker] = assigned
        log.debug("diarization: %d local speakers -> %d speakers", len(assigned), len(centroids))
        return speaker_of, len(centroids)

    def _turns(self, local, speaker_of: np.ndarray, n_global: int, duration_s: float) -> list[SpeakerTurn]:
        from annotators.speech.diarization.turns import active_to_turns, aggregate, binarize, label_turns

        p = self.params
        activation, count = aggregate(local, speaker_of, n_global, duration_s)
        active = binarize(activation, count)
        raw = active_to_turns(active, local.frame_step_s, duration_s, p.min_duration_on_s, p.min_duration_off_s)
        return label_turns(raw)


def _to_model_rate(samples: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    if sample_rate == target:
        return samples
    import soxr

    return soxr.resample(samples, sample_rate, target).astype(np.float32)
