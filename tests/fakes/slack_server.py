"""A Slack Web API stand-in on 127.0.0.1, plus Slack-style request signing.

Real HTTP, so ``slack_sdk.WebClient`` runs unmodified against it (point
``settings.slack_api_url`` at ``server.api_url``).  It implements what the triage service
calls: ``chat.postMessage`` (recorded, and kept per thread) and ``conversations.replies``
(which returns the posted thread, metadata included).  Tests script failures with
``fail_next("ratelimited", status=429)``; each scripted failure answers one call.

``sign_request`` produces the headers Slack sends with an Events API request (v0
HMAC-SHA256 over ``v0:{timestamp}:{body}``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def sign_request(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """The ``X-Slack-*`` headers Slack would send with ``body``."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json",
    }


@dataclass(frozen=True)
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class _State:
    token: str | None
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, deque[Failure]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    next_ts: int = 1_700_000_000
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeSlack:
    """Start with ``with FakeSlack(token="xoxb-test") as slack:``; ``slack.api_url``."""

    def __init__(self, token: str | None = "xoxb-test") -> None:
        self._state = _State(token=token)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(
        self,
        error: str,
        *,
        method: str = "chat.postMessage",
        status: int = 200,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        with self._state.lock:
            queue = self._state.failures.setdefault(method, deque())
            queue.extend(Failure(error, status, retry_after) for _ in range(times))

    def calls(self, method: str | None = None) -> list[Call]:
        with self._state.lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Arguments of every chat.postMessage that Slack accepted, in order."""
        with self._state.lock:
            return [m for msgs in self._state.threads.values() for m in msgs if "user" not in m]

    def seed_thread(self, channel: str, ts: str, text: str, user: str = "U_DEV") -> None:
        """The developer's original message, as the head of a thread."""
        with self._state.lock:
            self._state.threads.setdefault((channel, ts), []).insert(
                0, {"type": "message", "ts": ts, "user": user, "text": text}
            )


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._handle(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            args: dict[str, Any]
            if "json" in (self.headers.get("Content-Type") or ""):
                args = json.loads(raw or b"{}")
            else:
                args = parse_qs(raw.decode())
            args.update(parse_qs(urlsplit(self.path).query))
            self._handle(args)

        def _handle(self, raw_args: dict[str, Any]) -> None:
            args = {
                k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in raw_args.items()
            }
            method = urlsplit(self.path).path.removeprefix("/api/")
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") or None
            with state.lock:
                state.calls.append(Call(method, args, token))
                queue = state.failures.get(method)
                failure = queue.popleft() if queue else None
            if failure is not None:
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                self._reply(failure.status, {"ok": False, "error": failure.error}, headers)
            elif state.token is not None and token != state.token:
                self._reply(200, {"ok": False, "error": "invalid_auth"})
            elif method == "chat.postMessage":
                self._reply(200, _post_message(state, args))
            elif method == "conversations.replies":
                self._reply(200, _replies(state, args))
            else:
                self._reply(404, {"ok": False, "error": "unknown_method"})

        def _reply(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _post_message(state: _State, args: dict[str, Any]) -> dict[str, Any]:
    channel = args.get("channel")
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    if not args.get("text") and not args.get("blocks"):
        return {"ok": False, "error": "no_text"}
    with state.lock:
        state.next_ts += 1
        ts = f"{state.next_ts}.000100"
        message = {"type": "message", "ts": ts, "bot_id": "B_TRIAGE", **args}
        thread = str(args.get("thread_ts") or ts)
        state.threads.setdefault((str(channel), thread), []).append(message)
    return {"ok": True, "channel": channel, "ts": ts, "message": message}


def _replies(state: _State, args: dict[str, Any]) -> dict[str, Any]:
    key = (str(args.get("channel")), str(args.get("ts")))
    with state.lock:
        messages = list(state.threads.get(key, []))
    if not messages:
        return {"ok": False, "error": "thread_not_found"}
    return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {}}
