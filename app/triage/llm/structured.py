"""One structured-output call: a JSON answer out, a validated Pydantic model back.

OpenAI-compatible servers differ in how they take a schema: OpenAI and vLLM honour
`response_format: json_schema`, llama-cpp-python answers it with an HTTP error but
grammar-constrains `json_object` and forced tool calls.  `StructuredCaller` tries
`json_schema`, then `json_object`, then a forced tool call, moving on only when the
server refuses a mode (an HTTP error that names the format), and remembers
the mode that worked so later calls go straight to it.

The reply is parsed here, strictly, rather than by the SDK or langchain's lenient
partial-JSON parser: a truncated or malformed answer must fail (and hand off to a human),
not be "repaired".  A timed-out call is never retried or re-tried in another mode: a
stuck server would only be asked for the same work again.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, get_args

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError

from app.triage.llm.client import LLMNotConfigured, RemoteModelBlocked

__all__ = [
    "LLMOutputError",
    "StructuredCallFailed",
    "StructuredCaller",
    "StructuredMode",
    "StructuredReply",
    "describe_failure",
    "json_schema_for",
]

T = TypeVar("T", bound=BaseModel)

StructuredMode = Literal["json_schema", "json_object", "tool_call"]
MODES: tuple[StructuredMode, ...] = get_args(StructuredMode)

OutputProblem = Literal[
    "malformed_json", "schema_validation", "refusal", "empty_output", "truncated"
]

_FENCE = re.compile(r"\A```(?:json)?\s*\n(.*)\n```\s*\Z", re.DOTALL)
# An error that names the structured-output parameters is a refusal of the mode, whatever
# its status: llama-cpp-python answers `json_schema` with a 500.
_MODE_WORDS = re.compile(r"response_format|json_schema|json_object|schema|grammar|tool", re.I)
# Statuses that say "not this kind of request" whatever the message.
_REFUSAL_STATUSES = {415, 501}
_TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


class LLMOutputError(ValueError):
    """The model answered, but not with a valid instance of the schema."""

    def __init__(self, problem: OutputProblem, detail: str) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem


class StructuredCallFailed(RuntimeError):
    """No mode produced a valid answer; `reason` is a short code, `mode` the last tried."""

    def __init__(
        self,
        reason: str,
        mode: StructuredMode | None,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mode = mode
        # Set when the server answered: an unusable answer still cost these tokens.
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


@dataclass(frozen=True)
class StructuredReply(Generic[T]):
    parsed: T
    message: AIMessage
    content: str
    mode: StructuredMode

    @property
    def prompt_tokens(self) -> int | None:
        usage = self.message.usage_metadata
        return usage["input_tokens"] if usage else None

    @property
    def completion_tokens(self) -> int | None:
        usage = self.message.usage_metadata
        return usage["output_tokens"] if usage else None


def json_schema_for(
    schema: type[BaseModel], *, name: str, adjust: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """The strict JSON schema of `schema`; `adjust` may edit it in place."""
    tool = openai.pydantic_function_tool(schema, name=name)
    json_schema: dict[str, Any] = dict(tool["function"].get("parameters", {}))
    if adjust is not None:
        adjust(json_schema)
    return json_schema


def _text_of(message: AIMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(
        block.get("text", "") if isinstance(block, dict) else str(block)
        for block in message.content
    )


def _tool_arguments(message: AIMessage) -> str:
    raw = message.additional_kwargs.get("tool_calls")
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):
        arguments = (raw[0].get("function") or {}).get("arguments")
        if isinstance(arguments, str):
            return arguments
    if message.tool_calls:
        return json.dumps(message.tool_calls[0]["args"])
    return _text_of(message)


def _refused_mode(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError) or not isinstance(exc, openai.APIStatusError):
        return False
    if exc.status_code in _REFUSAL_STATUSES:
        return True
    # 401, 404 or 429 are about the caller, not the mode; a 400 for an over-long prompt
    # would fail the same way in every mode.
    if exc.status_code in (401, 403, 404, 408, 409, 429):
        return False
    return bool(_MODE_WORDS.search(str(exc.message)))


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError):
        return False
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code in _TRANSIENT_STATUSES


class StructuredCaller(Generic[T]):
    """Calls one schema through whichever structured-output mode the server accepts."""

    def __init__(
        self,
        schema: type[T],
        *,
        name: str,
        adjust: Callable[[dict[str, Any]], None] | None = None,
        retries: int = 0,
        deadline_seconds: float | None = None,
    ) -> None:
        self.schema = schema
        self.name = name
        self.json_schema = json_schema_for(schema, name=name, adjust=adjust)
        self.retries = retries
        self.deadline_seconds = deadline_seconds
        self._lock = threading.Lock()
        self._working: StructuredMode | None = None

    @property
    def working_mode(self) -> StructuredMode | None:
        """The mode the server last accepted, tried first next time."""
        return self._working

    def request_options(self, mode: StructuredMode) -> dict[str, Any]:
        """What `mode` adds to the chat completion request."""
        if mode == "json_schema":
            return {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": self.name, "strict": True, "schema": self.json_schema},
                }
            }
        if mode == "json_object":
            return {"response_format": {"type": "json_object"}}
        function = {"name": self.name, "parameters": self.json_schema}
        return {
            "tools": [{"type": "function", "function": function}],
            "tool_choice": {"type": "function", "function": {"name": self.name}},
        }

    def invoke(self, model: BaseChatModel, messages: list[BaseMessage]) -> StructuredReply[T]:
        """A validated answer, or `StructuredCallFailed` with a short reason and the mode."""
        started = time.monotonic()
        with self._lock:
            first = self._working or MODES[0]
        modes = MODES[MODES.index(first) :]
        mode: StructuredMode | None = None
        for mode in modes:
            try:
                reply = self._attempt(model, messages, mode, started)
            except StructuredCallFailed:
                raise
            except Exception as exc:
                if _refused_mode(exc) and mode != modes[-1]:
                    continue
                raise StructuredCallFailed(describe_failure(exc), mode) from exc
            return reply
        raise StructuredCallFailed("no_structured_mode", mode)  # pragma: no cover

    def _attempt(
        self,
        model: BaseChatModel,
        messages: list[BaseMessage],
        mode: StructuredMode,
        started: float,
    ) -> StructuredReply[T]:
        attempt = 0
        while True:
            options = self.request_options(mode)
            if self.deadline_seconds is not None:
                remaining = self.deadline_seconds - (time.monotonic() - started)
                if remaining <= 0:
                    raise StructuredCallFailed("timeout", mode)
                options["timeout"] = remaining
            try:
                message = model.bind(**options).invoke(messages)
            except openai.LengthFinishReasonError as exc:  # the SDK's own parser hit the cap
                with self._lock:
                    self._working = mode
                cost = exc.completion.usage
                raise StructuredCallFailed(
                    "truncated",
                    mode,
                    prompt_tokens=cost.prompt_tokens if cost else None,
                    completion_tokens=cost.completion_tokens if cost else None,
                ) from exc
            except Exception as exc:
                if _transient(exc) and not _refused_mode(exc) and attempt < self.retries:
                    attempt += 1
                    continue
                raise
            # The server took the request in this mode: remember it even if the model's
            # answer turns out unusable, since that is the model's fault, not the mode's.
            with self._lock:
                self._working = mode
            try:
                return self._parse(message, mode)
            except LLMOutputError as exc:
                usage = message.usage_metadata if isinstance(message, AIMessage) else None
                raise StructuredCallFailed(
                    exc.problem,
                    mode,
                    prompt_tokens=usage["input_tokens"] if usage else None,
                    completion_tokens=usage["output_tokens"] if usage else None,
                ) from exc

    def _parse(self, message: object, mode: StructuredMode) -> StructuredReply[T]:
        if not isinstance(message, AIMessage):
            raise LLMOutputError("empty_output", f"unexpected message {type(message).__name__}")
        refusal = message.additional_kwargs.get("refusal")
        if refusal:
            raise LLMOutputError("refusal", "the model refused")
        if message.response_metadata.get("finish_reason") == "length":
            raise LLMOutputError("truncated", "the answer hit the output token cap")
        content = (_tool_arguments(message) if mode == "tool_call" else _text_of(message)).strip()
        if not content:
            raise LLMOutputError("empty_output", "the model returned no content")
        fenced = _FENCE.match(content)
        if fenced:  # some self-hosted servers wrap JSON in a code fence despite the mode
            content = fenced.group(1).strip()
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise LLMOutputError("malformed_json", f"{exc.msg} at char {exc.pos}") from exc
        try:
            parsed = self.schema.model_validate(data)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors()})
            raise LLMOutputError("schema_validation", f"invalid: {', '.join(fields)}") from exc
        return StructuredReply(parsed=parsed, message=message, content=content, mode=mode)


def describe_failure(exc: BaseException) -> str:
    """A short, stable reason code for logs, provenance and handoff reasons: never the
    server's own text, which can carry internal paths and stack traces."""
    if isinstance(exc, StructuredCallFailed):
        return exc.reason
    if isinstance(exc, RemoteModelBlocked):
        return "remote_model_blocked"
    if isinstance(exc, LLMNotConfigured):
        return "not_configured"
    if isinstance(exc, LLMOutputError):
        return exc.problem
    if isinstance(exc, openai.LengthFinishReasonError):  # the SDK's parser hit the cap
        return "truncated"
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return "refusal"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "unexpected_error"
