"""The LLM rewriter against a real OpenAI-compatible HTTP server on 127.0.0.1 (started here, in a thread):
accepted rewrites, retries after 500s and timeouts, malformed JSON, auth errors, unfaithful rewrites rejected."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from merge.llm import RewriteRequest, chat_url, clean_reply, rewrite_batch
from merge.llm_params import LlmParams
from merge.merger import draft, merge_recordings
from merge.testing import example_outputs, outputs_from_truth
from merge.config import MergeConfig

CLIENT_TIMEOUT_S = 0.5
SLOW_REPLY_S = 1.5  # longer than the client waits: a timeout
DRAFT = re.compile(r"Draft caption:\n(.*?)\n\nRewrite", re.S)


def faithful_rewrite(text: str) -> str:
    """What a good LLM does: other wording for spans, merged sentences, a synonym."""
    text = re.sub(r"\((\d+\.\d+) - (\d+\.\d+)\)", r"between \1 and \2 seconds", text)
    text = text.replace("a phone rings", "a telephone is ringing").replace(". While", ", and while")
    return "<think>keep every span</think>In this recording, " + text[0].lower() + text[1:]


def drop_last_sentence(text: str) -> str:
    return text.rsplit(". ", 1)[0] + "."


def invent_event(text: str) -> str:
    return faithful_rewrite(text) + " A cat meows between 24.10 and 25.30 seconds."


class FakeLLM:
    """Behaviour per draft caption, one entry per attempt: "ok", "drop", "invent", "slow", "malformed", a status."""

    def __init__(self, script: dict[str, list], api_key: str | None = None, delay_s: float = 0.0):
        self.script, self.api_key, self.delay_s = script, api_key, delay_s
        self.attempts: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                fake.handle(self)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._respond(h)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer
        finally:
            with self.lock:
                self.in_flight -= 1

    def _respond(self, h: BaseHTTPRequestHandler) -> None:
        if h.path != "/v1/chat/completions":
            return self._send(h, 404, b'{"error": "not found"}')
        if self.api_key and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._send(h, 401, b'{"error": "bad key"}')
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        assert body["model"] == "test-model" and body["messages"][0]["role"] == "system"
        caption = DRAFT.search(body["messages"][1]["content"]).group(1)
        with self.lock:
            attempt = self.attempts[caption]
            self.attempts[caption] += 1
        plan = self.script.get(caption, ["ok"])
        action = plan[min(attempt, len(plan) - 1)]
        time.sleep(self.delay_s)
        if isinstance(action, int):
            return self._send(h, action, b'{"error": "server error"}')
        if action == "slow":
            time.sleep(SLOW_REPLY_S)
            action = "ok"
        if action == "malformed":
            return self._send(h, 200, b'{"choices": [{"message": {"content": "truncated')
        text = {"ok": faithful_rewrite, "drop": drop_last_sentence, "invent": invent_event}[action](caption)
        message = {"role": "assistant", "content": text}
        reply = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message}]}
        self._send(h, 200, json.dumps(reply).encode())

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)


def _cfg(base_url: str, **llm) -> MergeConfig:
    params = {"base_url": base_url, "model": "test-model", "timeout_s": CLIENT_TIMEOUT_S, "max_retries": 2,
              "backoff_s": 0.01, "backoff_max_s": 0.05, "concurrency": 4, **llm}
    return MergeConfig(llm=params, sft_tasks=("captioning",))


@pytest.fixture(scope="module")
def recordings(truth):
    names = ("s03_piano_120bpm", "s05_sound_events", "s07_events_over_speech", "s16_podcast_long")
    return [outputs_from_truth(truth[n]) for n in names] + [example_outputs()]


def test_rewrites_checked_retried_and_rejected(recordings):
    drafts = [draft(o, MergeConfig()).template.caption for o in recordings]
    script = {drafts[0]: ["ok"], drafts[1]: [500, "ok"], drafts[2]: ["slow", "ok"], drafts[3]: ["drop"],
              drafts[4]: ["invent"]}
    with FakeLLM(script) as llm:
        results = merge_recordings(recordings, _cfg(llm.base_url))
    caps = [c for c, _ in results]
    assert [c.recording_id for c in caps] == [o.recording.recording_id for o in recordings]
    for cap, text in zip(caps[:3], drafts[:3], strict=True):  # accepted: the rewrite replaces the template
        assert cap.merger == "llm:test-model" and cap.faithful and cap.llm_note is None
        assert cap.caption == faithful_rewrite(text).split("</think>")[1]
        assert sum(len(lk.event_keys) for lk in cap.links) == cap.num_events
    assert llm.attempts[drafts[1]] == 2 and llm.attempts[drafts[2]] == 2  # one retry each
    dropped, invented = caps[3], caps[4]
    assert dropped.merger == invented.merger == "template"
    assert dropped.caption == drafts[3] and invented.caption == drafts[4]
    assert "rejected" in dropped.llm_note and "dropped event" in dropped.llm_note
    assert "rejected" in invented.llm_note and '"cat"' in invented.llm_note
    assert all(c.faithful for c in caps) and caps[3].timeline_text  # the kept template is still checked
    sft_caption = results[0][1][0]
    assert sft_caption.task == "captioning" and sft_caption.response == caps[0].caption


def test_malformed_json_keeps_template_after_bounded_retries(recordings):
    text = draft(recordings[0], MergeConfig()).template.caption
    with FakeLLM({text: ["malformed"]}) as llm:
        [(cap, _)] = merge_recordings(recordings[:1], _cfg(llm.base_url, max_retries=3))
    assert llm.attempts[text] == 4
    assert cap.merger == "template" and cap.caption == text
    assert "failed" in cap.llm_note and "malformed" in cap.llm_note


def test_persistent_timeouts_and_5xx_give_up(recordings):
    texts = [draft(o, MergeConfig()).template.caption for o in recordings[:2]]
    with FakeLLM({texts[0]: ["slow"], texts[1]: [503]}) as llm:
        caps = [c for c, _ in merge_recordings(recordings[:2], _cfg(llm.base_url, max_retries=1))]
    assert llm.attempts[texts[0]] == llm.attempts[texts[1]] == 2
    assert "timed out" in caps[0].llm_note.lower() or "timeout" in caps[0].llm_note.lower()
    assert "HTTP 503" in caps[1].llm_note
    assert all(c.merger == "template" for c in caps)


def test_auth_header_and_no_retry_on_401(recordings, monkeypatch):
    text = draft(recordings[0], MergeConfig()).template.caption
    monkeypatch.setenv("FAKE_LLM_KEY", "secret")
    with FakeLLM({}, api_key="secret") as llm:
        [(ok, _)] = merge_recordings(recordings[:1], _cfg(llm.base_url, api_key_env="FAKE_LLM_KEY"))
    assert ok.merger == "llm:test-model"
    monkeypatch.setenv("FAKE_LLM_KEY", "wrong")
    with FakeLLM({}, api_key="secret") as llm:
        [(bad, _)] = merge_recordings(recordings[:1], _cfg(llm.base_url, api_key_env="FAKE_LLM_KEY"))
    assert llm.attempts[text] == 0 and llm.requests == 1  # 401 is not retried
    assert "HTTP 401" in bad.llm_note and bad.caption == text
    monkeypatch.delenv("FAKE_LLM_KEY")
    [(missing, _)] = merge_recordings(recordings[:1], _cfg("http://127.0.0.1:9/v1", api_key_env="FAKE_LLM_KEY"))
    assert "FAKE_LLM_KEY" in missing.llm_note and missing.merger == "template"


def test_concurrency_is_bounded_and_used():
    reqs = [RewriteRequest(f"A dog barks ({i}.00 - {i}.50).", f"{i}.00 - {i}.50: a dog barks") for i in range(9)]
    with FakeLLM({}, delay_s=0.2) as llm:
        params = LlmParams(base_url=llm.base_url, model="test-model", concurrency=3, timeout_s=5)
        out = rewrite_batch(reqs, params)
    assert [r.text for r in out] == [faithful_rewrite(r.caption).split("</think>")[1] for r in reqs]
    assert 2 <= llm.max_in_flight <= 3


def test_silent_recording_sends_no_request():
    from merge.outputs import RecordingOutputs
    from schemas.recordings import RecordingRow

    silent = RecordingOutputs(RecordingRow("quiet", "file:///q.wav", "ok", duration_s=3.0), [], [], [], [])
    with FakeLLM({}) as llm:
        [(cap, _)] = merge_recordings([silent], _cfg(llm.base_url))
    assert llm.requests == 0 and cap.merger == "template" and cap.llm_note is None


def test_url_and_reply_helpers():
    assert chat_url("http://h:8000/v1") == "http://h:8000/v1/chat/completions"
    assert chat_url("http://h:8000/v1/chat/completions") == "http://h:8000/v1/chat/completions"
    assert chat_url("http://h:8000/") == "http://h:8000/v1/chat/completions"
    assert clean_reply("<think>x</think>\n```\nA dog barks (1.00 - 2.00).\n```") == "A dog barks (1.00 - 2.00)."
