"""`merge.llm` in pipeline.yaml: an OpenAI-compatible chat endpoint that rewrites template captions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SYSTEM_PROMPT = (
    "You rewrite machine-made descriptions of audio recordings into fluent, natural English. Rules: "
    "mention every listed event exactly once; give each event its time span exactly as listed, written "
    "'start - end' in seconds with the same numbers; quote every speech transcript verbatim in double "
    "quotes and keep its speaker label (S01, S02, ...); name each sound with the words used in the list; "
    "say which events overlap; add nothing that is not listed (no new events, times, speakers, sounds, "
    "instruments, tempos or keys) and no opinions; every sentence must contain at least one time span. "
    "Reply with the rewritten caption only."
)


class LlmParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="e.g. http://localhost:8000/v1 (the /chat/completions path is added)")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="requests in flight at once")
    timeout_s: float = Field(60.0, gt=0, description="per request")
    max_retries: int = Field(3, ge=0, description="retries after timeouts, 429/5xx and malformed replies")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay; doubles each retry")
    backoff_max_s: float = Field(30.0, ge=0)
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(1024, ge=1)
    system_prompt: str = SYSTEM_PROMPT
