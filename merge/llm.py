"""Optional LLM rewriter: template captions -> fluent prose through any OpenAI-compatible chat endpoint.

Stdlib only (urllib + threads): requests run `concurrency` at a time, each with a timeout and a
bounded number of retries with exponential backoff. A failure never raises: the result says why,
and the merger keeps the template caption.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from merge.llm_params import LlmParams

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429})  # and every 5xx
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"^```[a-zA-Z]*\n(.*)\n```$", re.S)


class LlmError(RuntimeError):
    """A request that failed for good (after its retries, or with an error not worth retrying)."""

    def __init__(self, message: str, attempts: int = 0):
        super().__init__(message)
        self.attempts = attempts


class _Retryable(Exception):
    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RewriteRequest:
    caption: str  # the template caption
    timeline_text: str  # one event per line: "7.00 - 8.39: a phone rings"


@dataclass(frozen=True)
class RewriteResult:
    text: str | None  # None when every attempt failed
    error: str | None
    attempts: int


def chat_url(base_url: str) -> str:
    """Accepts ".../v1", ".../v1/chat/completions" or a bare host."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if urllib.parse.urlparse(url).path.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def build_messages(req: RewriteRequest, params: LlmParams) -> list[dict[str, str]]:
    user = (
        f"Events (one per line, times in seconds):\n{req.timeline_text or '(none)'}\n\n"
        f"Draft caption:\n{req.caption}\n\n"
        "Rewrite the draft caption as one fluent paragraph that follows the rules."
    )
    return [{"role": "system", "content": params.system_prompt}, {"role": "user", "content": user}]


class ChatClient:
    def __init__(self, params: LlmParams):
        self.params = params
        self.url = chat_url(params.base_url)
        self.headers = {"Content-Type": "application/json"}
        if params.api_key_env:
            key = os.environ.get(params.api_key_env)
            if not key:
                raise LlmError(f"merge.llm.api_key_env: environment variable {params.api_key_env} is not set")
            self.headers["Authorization"] = f"Bearer {key}"
        host = urllib.parse.urlparse(self.url).hostname or ""
        # Never send a loopback request through a proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})] if host in LOOPBACK_HOSTS else []
        self._opener = urllib.request.build_opener(*handlers)

    def complete(self, messages: list[dict[str, str]]) -> tuple[str, int]:
        """The reply text and the number of attempts it took; LlmError when it never came."""
        p = self.params
        body = json.dumps(
            {"model": p.model, "messages": messages, "temperature": p.temperature, "max_tokens": p.max_tokens}
        ).encode()
        last = "no attempt"
        for attempt in range(p.max_retries + 1):
            try:
                return self._once(body), attempt + 1
            except LlmError as e:
                raise LlmError(str(e), attempt + 1) from None
            except _Retryable as e:
                last = str(e)
                if attempt == p.max_retries:
                    break
                delay = min(p.backoff_max_s, p.backoff_s * 2**attempt)
                delay = max(delay, min(e.retry_after_s or 0.0, p.backoff_max_s))
                log.info("LLM request failed (%s); retry %d in %.2f s", last, attempt + 1, delay)
                time.sleep(delay)
        raise LlmError(f"gave up after {p.max_retries + 1} attempts: {last}", p.max_retries + 1)

    def _once(self, body: bytes) -> str:
        req = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with self._opener.open(req, timeout=self.params.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode("utf-8", "replace")
            if e.code in RETRY_STATUS or e.code >= 500:
                raise _Retryable(f"HTTP {e.code}: {detail}", _retry_after(e.headers.get("Retry-After"))) from None
            raise LlmError(f"HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as e:
            raise _Retryable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        return _reply_text(raw)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _reply_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        text = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise _Retryable(f"malformed reply ({type(e).__name__}): {raw[:120]!r}") from None
    if not isinstance(text, str) or not clean_reply(text):
        raise _Retryable("empty reply")
    return clean_reply(text)


def clean_reply(text: str) -> str:
    """Drop reasoning blocks and a code fence around the answer."""
    text = _THINK.sub("", text).strip()
    m = _FENCE.match(text)
    return (m.group(1) if m else text).strip()


def rewrite_batch(requests: Sequence[RewriteRequest], params: LlmParams) -> list[RewriteResult]:
    """One result per request, in order; at most `params.concurrency` requests in flight."""
    if not requests:
        return []
    try:
        client = ChatClient(params)
    except LlmError as e:
        log.error("LLM rewriter not used: %s", e)
        return [RewriteResult(None, str(e), 0) for _ in requests]

    def one(req: RewriteRequest) -> RewriteResult:
        try:
            text, attempts = client.complete(build_messages(req, params))
            return RewriteResult(text, None, attempts)
        except LlmError as e:
            return RewriteResult(None, str(e), e.attempts)

    with ThreadPoolExecutor(max_workers=min(params.concurrency, len(requests))) as pool:
        return list(pool.map(one, requests))
