"""Check the API names an LLM answer states against the configured OpenAPI specs.

An answer that sends a developer to `POST /v1/refunds` when the spec has no such
operation, or tells them to expect status `SETTLED_OK`, is wrong in a way a reviewer
easily misses.  This module indexes every spec in `TRIAGE_OPENAPI_SPECS` once (operations
as method + path template, and every property, parameter, schema name, operation id, enum
value and error code) and lists the names an answer uses that the spec does not have.

A name the retrieved passages spell verbatim is accepted too: guides legitimately
mention things the spec does not model (environment variables, SDK helpers), and the
passages are what the answer was told to ground itself in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from app.triage.draft.markup_patterns import CODE_SPAN, UPPER_SNAKE
from ingest.loaders.openapi import error_codes_from_spec, parse_document
from ingest.loaders.openapi_schema import iter_operations
from ingest.types import LoadError

__all__ = ["ApiIndex", "load_api_index"]

log = logging.getLogger(__name__)

_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_OPERATION = re.compile(rf"\b({_METHODS})\s+`?((?:https?://[^\s`]+?)?/[^\s`)\]]*)`?", re.IGNORECASE)
# Only tokens shaped like API names are checked: snake_case, camelCase, CONSTANT_CASE.
_API_NAME = re.compile(
    r"^(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+(?:[A-Z][a-z0-9]*)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
    r"|[A-Z]{3,})$"
)
_TEMPLATE_PARAM = re.compile(r"\\\{[^}]*\\\}")


class ApiIndex:
    def __init__(self, operations: Iterable[tuple[str, str]], names: Iterable[str]) -> None:
        self.operations = frozenset(operations)
        self.names = frozenset(names)
        self._patterns = [
            (
                method,
                re.compile(
                    r"(?:^|/)" + _TEMPLATE_PARAM.sub("[^/]+", re.escape(path.lstrip("/"))) + "/?$"
                ),
            )
            for method, path in self.operations
        ]

    def has_operation(self, method: str | None, path: str) -> bool:
        """Whether the spec has `path` (any server prefix, params filled in) for `method`."""
        path = re.sub(r"^https?://[^/]+", "", path).split("?", 1)[0].split("#", 1)[0]
        path = path.rstrip(".,;:")
        return any(
            (method is None or m == method.upper()) and p.search(path) for m, p in self._patterns
        )

    def unknown_names(self, text: str, *, grounding: Iterable[str] = ()) -> list[str]:
        """Operations and names in `text` that neither the spec nor the passages know."""
        seen_in_docs = " ".join(grounding)
        unknown: list[str] = []

        def flag(name: str) -> None:
            if name not in unknown:
                unknown.append(name)

        for method, path in _OPERATION.findall(text):
            if not self.has_operation(method, path):
                flag(f"{method.upper()} {path.rstrip('.,;:')}")
        for raw in CODE_SPAN.findall(text):
            span = raw.strip()
            if span.startswith("/") and " " not in span:
                if not self.has_operation(None, span) and span not in seen_in_docs:
                    flag(span)
                continue
            if span in self.names:
                continue
            for part in span.split("."):
                known = part in self.names or part in seen_in_docs
                if _API_NAME.match(part) and not known:
                    flag(part)
        for code in UPPER_SNAKE.findall(CODE_SPAN.sub(" ", text)):
            if code not in self.names and code not in seen_in_docs:
                flag(code)
        return unknown


def _walk(node: Any) -> Iterator[str]:
    """Every property, parameter and schema name, operation id and enum value."""
    if isinstance(node, Mapping):
        for key in ("properties", "schemas", "headers"):
            inner = node.get(key)
            if isinstance(inner, Mapping):
                yield from (str(k) for k in inner)
        if isinstance(node.get("in"), str) and node.get("name"):
            yield str(node["name"])
        if node.get("operationId"):
            yield str(node["operationId"])
        if isinstance(node.get("enum"), list):
            yield from (str(v) for v in node["enum"] if v is not None)
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def load_api_index(specs: Iterable[Path]) -> ApiIndex | None:
    """The index of every readable spec; None when no spec is configured or readable."""
    operations: set[tuple[str, str]] = set()
    names: set[str] = set()
    loaded = 0
    for spec in specs:
        try:
            document = parse_document(spec, spec.read_text("utf-8"))
        except (OSError, LoadError) as exc:
            log.warning("skipping %s for the API name check: %s", spec, exc)
            continue
        if not isinstance(document, Mapping):
            continue
        loaded += 1
        operations |= {(m.upper(), p) for m, p, _ in iter_operations(document)}
        found = set(_walk(document)) | error_codes_from_spec(document)
        # Webhook event names (`OUTGOING_PAYMENT.PENDING`) are also named by their parts.
        names |= found | {part for name in found if "." in name for part in name.split(".")}
    if not loaded:
        return None
    return ApiIndex(operations, names)
