"""The merge stage's config (`merge:` in pipeline.yaml): captions, faithfulness check, SFT tasks and balance.

Owned here, next to the code that reads it; `pipeline.config` composes it into the pipeline's config."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class MergeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    caption: Literal["template"] = "template"
    sft_tasks: tuple[str, ...] = ()
    # No SFT task may be more than this share of a shard's SFT rows: a task over it keeps a deterministic
    # sample (by example id). 1.0 keeps every row.
    sft_max_task_share: float = Field(0.5, gt=0, le=1, description="largest share of SFT rows one task may have")
    # An OpenAI-compatible endpoint that rewrites the template caption (merge/llm_params.py: base_url,
    # model, api_key_env, concurrency, timeout_s, max_retries, ...); kept only if it passes the check.
    llm: dict[str, Any] | None = None
    time_decimals: int = Field(2, ge=0, le=3, description="decimals of every time in captions and SFT answers")
    max_music_tags: int = Field(3, ge=0, description="music tags named in a caption, highest score first")
    min_tag_score: float = Field(0.0, ge=0, le=1, description="music tags below this score are not named")
    time_tolerance_s: float = Field(0.051, ge=0, description="faithfulness: a stated time matches an event edge")
    tempo_tolerance_bpm: float = Field(1.0, ge=0, description="faithfulness: a stated tempo matches a music row")
    min_speech_word_overlap: float = Field(
        0.6, ge=0, le=1, description="faithfulness: share of a transcript's words a statement must repeat"
    )
    require_statement_links: bool = Field(True, description="faithfulness: a statement tied to no event is flagged")
    sft_max_audio_s: float = Field(60.0, gt=0, description="longer recordings give SFT examples on windows")
    sft_window_pad_s: float = Field(1.0, ge=0, description="audio kept around a window's events (within gaps)")

    @field_validator("sft_tasks")
    @classmethod
    def _known_tasks(cls, tasks: tuple[str, ...]) -> tuple[str, ...]:
        from merge.sft import SFT_TASKS  # lazy: the task registry imports the builders

        unknown = [t for t in tasks if t not in SFT_TASKS]
        if unknown:
            raise ValueError(f"unknown SFT task(s) {unknown}; allowed: {', '.join(SFT_TASKS)}")
        return tasks

    @field_validator("llm")
    @classmethod
    def _llm_params(cls, llm: dict[str, Any] | None) -> dict[str, Any] | None:
        if llm is None:
            return None
        from merge.llm_params import LlmParams

        try:
            LlmParams.model_validate(llm)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'llm'}: {err['msg']}" for err in e.errors())
            raise ValueError(f"{problems} (allowed: {', '.join(LlmParams.model_fields)})") from None
        return llm
