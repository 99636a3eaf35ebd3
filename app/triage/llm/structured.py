"""One structured-output call: strict JSON schema out, validated Pydantic model back.

The schema is sent as an explicit `response_format` dict and the reply is parsed here,
strictly, rather than by the SDK or langchain's lenient partial-JSON parser: a truncated
or malformed answer must fail (and hand off to a human), not be "repaired".  Parsing
here also keeps the raw message, whose usage metadata feeds provenance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError

from app.triage.llm.client import LLMNotConfigured, RemoteModelBlocked

__all__ = [
    "LLMOutputError",
    "StructuredReply",
    "describe_failure",
    "invoke_structured",
    "response_format_for",
]

T = TypeVar("T", bound=BaseModel)

OutputProblem = Literal["malformed_json", "schema_validation", "refusal", "empty_output"]

_FENCE = re.compile(r"\A```(?:json)?\s*\n(.*)\n```\s*\Z", re.DOTALL)


class LLMOutputError(ValueError):
    """The model answered, but not with a valid instance of the schema."""

    def __init__(self, problem: OutputProblem, detail: str) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem


@dataclass(frozen=True)
class StructuredReply(Generic[T]):
    parsed: T
    message: AIMessage
    content: str

    @property
    def prompt_tokens(self) -> int | None:
        usage = self.message.usage_metadata
        return usage["input_tokens"] if usage else None

    @property
    def completion_tokens(self) -> int | None:
        usage = self.message.usage_metadata
        return usage["output_tokens"] if usage else None


def response_format_for(
    schema: type[BaseModel],
    *,
    name: str,
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """OpenAI strict json_schema response format; `adjust` may edit the schema in place."""
    tool = openai.pydantic_function_tool(schema, name=name)
    json_schema: dict[str, Any] = dict(tool["function"].get("parameters", {}))
    if adjust is not None:
        adjust(json_schema)
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "strict": True, "schema": json_schema},
    }


def _text_of(message: AIMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(
        block.get("text", "") if isinstance(block, dict) else str(block)
        for block in message.content
    )


def invoke_structured(
    model: BaseChatModel,
    messages: list[BaseMessage],
    schema: type[T],
    *,
    response_format: dict[str, Any],
) -> StructuredReply[T]:
    """Call the model; transport errors propagate, output problems raise LLMOutputError."""
    message = model.bind(response_format=response_format).invoke(messages)
    if not isinstance(message, AIMessage):
        raise LLMOutputError("empty_output", f"unexpected message type {type(message).__name__}")
    refusal = message.additional_kwargs.get("refusal")
    if refusal:
        raise LLMOutputError("refusal", str(refusal)[:200])
    content = _text_of(message).strip()
    if not content:
        raise LLMOutputError("empty_output", "the model returned no content")
    fenced = _FENCE.match(content)
    if fenced:  # some self-hosted servers wrap JSON in a code fence despite the schema
        content = fenced.group(1).strip()
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise LLMOutputError("malformed_json", f"{exc.msg} at char {exc.pos}") from exc
    try:
        parsed = schema.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "<root>" for err in exc.errors()})
        raise LLMOutputError("schema_validation", f"invalid fields: {', '.join(fields)}") from exc
    return StructuredReply(parsed=parsed, message=message, content=content)


def describe_failure(exc: BaseException) -> str:
    """A short, stable reason code for logs, provenance and handoff reasons."""
    if isinstance(exc, RemoteModelBlocked):
        return "remote_model_blocked"
    if isinstance(exc, LLMNotConfigured):
        return "not_configured"
    if isinstance(exc, LLMOutputError):
        return exc.problem
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"unexpected_error ({type(exc).__name__})"
