"""Speaker diarization: pyannote segmentation-3.0 (rebuilt from its packaged ONNX) + GE2E embeddings."""

from annotators.speech.diarization.diarizer import DiarizerParams, SpeakerDiarizer

__all__ = ["DiarizerParams", "SpeakerDiarizer"]
