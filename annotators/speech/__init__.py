"""Speech branch: Whisper ASR with word times, speakers and paralinguistics (models load in setup())."""

from annotators.speech import asr  # noqa: F401  (registers "whisper")
