"""A scripted OpenAI-compatible server on 127.0.0.1 for tests.

It speaks real HTTP, so the whole client stack (langchain-openai -> openai -> httpx2) runs
exactly as it would against a provider; only the answers are canned.  Each test scripts
the chat replies it needs (`Reply.json`, `Reply.text`, `Reply.status`, `Reply.delay`,
`Reply.runaway`); anything unscripted gets the default reply.  Every request body is
recorded so a test can assert what reached the "provider".

Server quirks seen in the field are switches: `refuse_json_schema` (and
`refuse_json_object`) answer that `response_format` with an HTTP 500 naming it, as
llama-cpp-python does, without using up a scripted reply; a request with a forced tool
gets its scripted JSON back as the tool call's arguments.

Embeddings are not scripted: they are deterministic unit vectors derived from a hash of
the input, so equal texts embed equally across runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Usage = tuple[int, int] | Literal["auto"] | None


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour for the next chat completion request."""

    kind: Literal["content", "status", "delay", "runaway"]
    content: str = ""
    status_code: int = 200
    message: str = ""
    seconds: float = 0.0
    then: Reply | None = None
    usage: Usage = "auto"

    @staticmethod
    def json(obj: Any, *, usage: Usage = "auto") -> Reply:
        """A well-formed structured output: `obj` serialised as the message content."""
        return Reply(kind="content", content=json.dumps(obj), usage=usage)

    @staticmethod
    def text(raw: str, *, usage: Usage = "auto") -> Reply:
        """Raw message content, e.g. malformed JSON."""
        return Reply(kind="content", content=raw, usage=usage)

    @staticmethod
    def status(code: int, message: str = "scripted failure") -> Reply:
        """An HTTP error with an OpenAI-style error body."""
        return Reply(kind="status", status_code=code, message=message)

    @staticmethod
    def runaway(content: str = '{"answer": "Quotes expire after') -> Reply:
        """A model that never stops: with a token cap in the request it generates up to it
        and stops with `finish_reason: length`; without one it never answers."""
        return Reply(kind="runaway", content=content)

    @staticmethod
    def delay(seconds: float, then: Reply | None = None) -> Reply:
        """Wait, then answer with `then` (or the default reply); for client timeouts."""
        return Reply(kind="delay", seconds=seconds, then=then)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: str
    body: Any = field(default=None)


class FakeOpenAI:
    """Start with `with FakeOpenAI() as fake:`; point clients at `fake.base_url`."""

    def __init__(
        self,
        *,
        embedding_dim: int = 16,
        default: Reply | None = None,
        refuse_json_schema: bool = False,
        refuse_json_object: bool = False,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.refuse_json_schema = refuse_json_schema
        self.refuse_json_object = refuse_json_object
        self.default = default or Reply.status(500, "no scripted reply left")
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # --- scripting ------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # --- lifecycle ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wakes any handler still sleeping in a scripted delay so shutdown is quick.
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour ------------------------------------------------------------
    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def chat(self, body: Any) -> tuple[int, dict[str, Any]]:
        response_format = body.get("response_format") if isinstance(body, dict) else None
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if (kind == "json_schema" and self.refuse_json_schema) or (
            kind == "json_object" and self.refuse_json_object
        ):
            # A server's own words, internal path and all.
            return 500, _error(
                f"1 validation error for CreateChatCompletionRequest response_format.type: "
                f"{kind} is not supported "
                "[file /opt/venv/lib/python3.11/site-packages/llama_cpp/server/app.py]"
            )
        reply = self._next_reply()
        while reply.kind == "delay":
            if self._stopping.wait(reply.seconds):
                return 503, _error("server stopping")
            reply = reply.then or self.default
        if reply.kind == "status":
            return reply.status_code, _error(reply.message)
        if reply.kind == "runaway":
            cap = body.get("max_tokens") or body.get("max_completion_tokens")
            if not cap:
                self._stopping.wait()  # generates until the server is shut down
                return 503, _error("server stopping")
            # About four characters a token, like the usage estimate below.
            filler = (reply.content + " and then" * int(cap))[: int(cap) * 4]
            return 200, self._completion(body, replace(reply, content=filler), "length")
        return 200, self._completion(body, reply)

    def _completion(self, body: Any, reply: Reply, finish_reason: str = "stop") -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if isinstance(body, dict) and body.get("tools") and body.get("tool_choice"):
            name = body["tool_choice"]["function"]["name"]
            call = {"name": name, "arguments": reply.content}
            message["content"] = None
            message["tool_calls"] = [{"id": "call_fake", "type": "function", "function": call}]
        document: dict[str, Any] = {
            "id": f"chatcmpl-fake-{self._next_id()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "fake")) if isinstance(body, dict) else "fake",
            "system_fingerprint": "fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
        }
        usage = reply.usage
        if usage == "auto":
            # A rough, deterministic stand-in for a tokenizer.
            prompt_chars = sum(
                len(str(m.get("content", "")))
                for m in (body.get("messages", []) if isinstance(body, dict) else [])
                if isinstance(m, dict)
            )
            usage = (prompt_chars // 4 + 1, len(reply.content) // 4 + 1)
        if usage is not None:
            document["usage"] = {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": usage[0] + usage[1],
            }
        return document

    def embeddings(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or "input" not in body:
            return 400, _error("missing input")
        inputs = body["input"]
        if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        dim = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, item in enumerate(inputs):
            vector = fake_embedding(json.dumps(item) if not isinstance(item, str) else item, dim)
            encoded: Any = (
                base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode("ascii")
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(str(i).split()) for i in inputs)
        return 200, {
            "object": "list",
            "model": str(body.get("model", "fake-embedding")),
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def fake_embedding(text: str, dim: int) -> list[float]:
    """A unit vector determined by `text` alone."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "param": None, "code": None}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out hang up mid-reply; that is the scenario, not a failure.
        return


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        fake.record(
            RecordedRequest(
                method="POST", path=path, headers=dict(self.headers.items()), raw=raw, body=body
            )
        )
        if path.endswith("/chat/completions"):
            if isinstance(body, dict) and body.get("stream"):
                self._send(400, _error("streaming is not supported by the fake"))
                return
            self._send(*fake.chat(body if isinstance(body, dict) else {}))
        elif path.endswith("/embeddings"):
            self._send(*fake.embeddings(body))
        else:
            self._send(404, _error(f"no route {path}"))

    def _send(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            return
