"""OpenAPI 3.0/3.1 specs: one Markdown document per operation, webhook and component schema."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ingest.loaders.openapi_schema import (
    Resolver,
    SchemaField,
    enum_values,
    error_codes_from_spec,
    iter_operations,
    response_error_codes,
)
from ingest.loaders.source_file import doc_id_for
from ingest.types import LoadError, MetadataValue, SourceDocument

__all__ = ["error_codes_from_spec", "is_openapi3", "load_openapi", "parse_document"]

# How deep nested objects are spelled out.  Requests are what integrators get wrong, so
# they go deepest; response and schema documents stay short because every component
# schema has its own document anyway.
_REQUEST_DEPTH = 5
_RESPONSE_DEPTH = 2
_SCHEMA_DOC_DEPTH = 2
_JSON_MEDIA = re.compile(r"[/+]json\b")


def parse_document(path: Path, text: str) -> Any:
    """The YAML or JSON document in `text`; syntax errors become a LoadError."""
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        # CSafeLoader: the pure-Python loader takes seconds on a 1 MB spec.
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise LoadError(path, f"invalid YAML: {problem}{where}") from None


def is_openapi3(document: Any) -> bool:
    return isinstance(document, Mapping) and str(document.get("openapi", "")).startswith("3.")


def load_openapi(path: Path, spec: Mapping[str, Any], *, source: str) -> list[SourceDocument]:
    _validate(path, spec)
    try:
        return _documents(spec, source)
    except (AttributeError, TypeError) as exc:
        # A node of the wrong shape deep inside (say, `properties: [a, b]`): report the
        # file as unloadable instead of failing the whole ingest run.
        raise LoadError(path, f"invalid OpenAPI spec: malformed structure ({exc})") from exc


def _documents(spec: Mapping[str, Any], source: str) -> list[SourceDocument]:
    ctx = _Context(spec=spec, resolver=Resolver(spec), source=source, base=doc_id_for(source))
    docs: list[SourceDocument] = []
    seen: set[str] = set()
    for method, api_path, operation in iter_operations(spec):
        docs.append(_operation_doc(ctx, method, api_path, operation, seen))
    for name, raw_item in (spec.get("webhooks") or {}).items():
        item, _ = ctx.resolver.deref(raw_item)
        if isinstance(item, Mapping):
            docs.append(_webhook_doc(ctx, str(name), item, seen))
    for name, schema in ((spec.get("components") or {}).get("schemas") or {}).items():
        docs.append(_schema_doc(ctx, str(name), schema, seen))
    return docs


def _validate(path: Path, spec: Mapping[str, Any]) -> None:
    version = str(spec.get("openapi", ""))
    for key in ("paths", "webhooks", "components"):
        if key in spec and not isinstance(spec[key], Mapping | None):
            raise LoadError(path, f"invalid OpenAPI spec: '{key}' must be a mapping")
    schemas = (spec.get("components") or {}).get("schemas")
    if not isinstance(schemas, Mapping | None):
        raise LoadError(path, "invalid OpenAPI spec: 'components.schemas' must be a mapping")
    # 3.1 allows a spec of only webhooks or components; 3.0 requires `paths`.
    needed = ("paths",) if version.startswith("3.0") else ("paths", "webhooks", "components")
    if not any(key in spec for key in needed):
        raise LoadError(path, f"invalid OpenAPI spec: missing '{needed[0]}'")


@dataclass(frozen=True)
class _Context:
    spec: Mapping[str, Any]
    resolver: Resolver
    source: str
    base: str

    @property
    def spec_url(self) -> str | None:
        info = self.spec.get("info")
        return _str(self.spec.get("x-doc-url")) or _str(
            info.get("x-doc-url") if isinstance(info, Mapping) else None
        )


def _operation_doc(
    ctx: _Context, method: str, api_path: str, op: Mapping[str, Any], seen: set[str]
) -> SourceDocument:
    operation_id = _str(op.get("operationId"))
    slug = operation_id or f"{method.lower()}-{_slug(api_path)}"
    lines = [f"# {method} {api_path}", ""]
    lines += _overview(op, operation_id)
    lines += _parameters(ctx, api_path, op)
    lines += _request_body(ctx, op.get("requestBody"), "Request body")
    lines += _responses(ctx, op.get("responses"), "Responses")
    path_item = (ctx.spec.get("paths") or {}).get(api_path) or {}
    return SourceDocument(
        doc_id=_unique(f"{ctx.base}/operations/{_segment(slug)}", seen),
        source=ctx.source,
        title=_str(op.get("summary")) or f"{method} {api_path}",
        text=_join(lines),
        kind="api_operation",
        url=_str(op.get("x-doc-url")) or _str(_get(path_item, "x-doc-url")) or ctx.spec_url,
        metadata=_metadata(method, api_path, operation_id, op),
    )


def _webhook_doc(
    ctx: _Context, name: str, item: Mapping[str, Any], seen: set[str]
) -> SourceDocument:
    operations = [
        (method.upper(), op)
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch") and isinstance(op, Mapping)
    ]
    lines = [f"# Webhook: {name}", ""]
    first: Mapping[str, Any] = operations[0][1] if operations else {}
    for method, op in operations:
        if len(operations) > 1:
            lines += [f"## {method}", ""]
        lines += [f"Sent as an HTTP `{method}` request to your webhook endpoint.", ""]
        lines += _overview(op, _str(op.get("operationId")))
        lines += _request_body(ctx, op.get("requestBody"), "Payload")
        lines += _responses(ctx, op.get("responses"), "Responses your endpoint returns")
    metadata: dict[str, MetadataValue] = {"webhook": name}
    if operations:
        metadata.update(_metadata(operations[0][0], None, _str(first.get("operationId")), first))
    return SourceDocument(
        doc_id=_unique(f"{ctx.base}/webhooks/{_segment(name)}", seen),
        source=ctx.source,
        title=_str(first.get("summary")) or name,
        text=_join(lines),
        kind="api_webhook",
        url=_str(first.get("x-doc-url")) or _str(item.get("x-doc-url")) or ctx.spec_url,
        metadata=metadata,
    )


def _schema_doc(ctx: _Context, name: str, schema: Any, seen: set[str]) -> SourceDocument:
    merged = ctx.resolver.merged(schema)
    lines = [f"# Schema: {name}", "", f"Type: {ctx.resolver.type_label(schema)}", ""]
    if _str(merged.get("title")) and merged.get("title") != name:
        lines += [f"**{merged['title']}**", ""]
    if _str(merged.get("description")):
        lines += [str(merged["description"]).strip(), ""]
    values = enum_values(merged)
    if values:
        lines += ["Allowed values: " + ", ".join(f"`{v}`" for v in values), ""]
    variants = [v for key in ("oneOf", "anyOf") for v in merged.get(key) or []]
    if variants:
        names = ", ".join(f"`{ctx.resolver.type_label(v)}`" for v in variants)
        lines += [f"One of: {names}", ""]
    fields = ctx.resolver.fields(schema, max_depth=_SCHEMA_DOC_DEPTH)
    if fields:
        lines += ["## Fields", "", *(_field_line(f) for f in fields), ""]
    return SourceDocument(
        doc_id=_unique(f"{ctx.base}/schemas/{_segment(name)}", seen),
        source=ctx.source,
        title=name,
        text=_join(lines),
        kind="api_schema",
        url=_str(_get(schema, "x-doc-url")) or ctx.spec_url,
        metadata={"schema": name},
    )


def _overview(op: Mapping[str, Any], operation_id: str | None) -> list[str]:
    lines: list[str] = []
    if _str(op.get("summary")):
        lines += [f"**{_str(op.get('summary'))}**", ""]
    if operation_id:
        lines.append(f"Operation ID: `{operation_id}`")
    tags = _tags(op)
    if tags:
        lines.append(f"Tags: {', '.join(tags)}")
    if op.get("deprecated"):
        lines.append("Deprecated: this operation is deprecated.")
    if lines and lines[-1]:
        lines.append("")
    if _str(op.get("description")):
        lines += [str(op["description"]).strip(), ""]
    return lines


def _parameters(ctx: _Context, api_path: str, op: Mapping[str, Any]) -> list[str]:
    path_item, _ = ctx.resolver.deref((ctx.spec.get("paths") or {}).get(api_path))
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    # Path-level parameters apply to every operation; the operation may override them.
    for raw in [*(_get(path_item, "parameters") or []), *(op.get("parameters") or [])]:
        param, _ = ctx.resolver.deref(raw)
        if isinstance(param, Mapping) and param.get("name"):
            merged[(str(param.get("name")), str(param.get("in")))] = param
    if not merged:
        return []
    lines = ["## Parameters", ""]
    for (name, where), param in merged.items():
        schema = param.get("schema")
        if schema is None:
            media: Any = next(iter((param.get("content") or {}).values()), {})
            schema = _get(media, "schema") or {}
        details = [where, ctx.resolver.type_label(schema)]
        if param.get("required"):
            details.append("required")
        if param.get("deprecated"):
            details.append("deprecated")
        item = SchemaField(
            path=name,
            type=", ".join(details),
            description=str(param.get("description") or "").strip(),
            enum=tuple(enum_values(ctx.resolver.merged(schema))),
        )
        lines.append(_field_line(item))
    return [*lines, ""]


def _request_body(ctx: _Context, raw: Any, heading: str) -> list[str]:
    body, _ = ctx.resolver.deref(raw)
    if not isinstance(body, Mapping) or not body:
        return []
    lines = [f"## {heading}", ""]
    if _str(body.get("description")):
        lines += [str(body["description"]).strip(), ""]
    lines += _content(
        ctx, body.get("content"), depth=_REQUEST_DEPTH, required=bool(body.get("required"))
    )
    return lines


def _content(ctx: _Context, content: Any, *, depth: int, required: bool = False) -> list[str]:
    if not isinstance(content, Mapping) or not content:
        return []
    media_type = next((m for m in content if _JSON_MEDIA.search(str(m))), next(iter(content)))
    schema = _get(content[media_type], "schema")
    types = ", ".join(f"`{m}`" for m in content)
    label = f", schema `{ctx.resolver.type_label(schema)}`" if schema is not None else ""
    note = " (required)" if required else ""
    lines = [f"Content type {types}{label}{note}.", ""]
    fields = ctx.resolver.fields(schema, max_depth=depth) if schema is not None else []
    if fields:
        lines += [*(_field_line(f) for f in fields), ""]
    return lines


def _responses(ctx: _Context, responses: Any, heading: str) -> list[str]:
    if not isinstance(responses, Mapping) or not responses:
        return []
    lines = [f"## {heading}", ""]
    for status, raw in responses.items():
        response, _ = ctx.resolver.deref(raw)
        description = str(_get(response, "description") or "").strip()
        lines += [f"### {status}" + (f": {description}" if "\n" not in description else ""), ""]
        if "\n" in description:
            lines += [description, ""]
        codes = response_error_codes(ctx.resolver, response)
        if codes:
            lines += ["Error codes: " + ", ".join(f"`{c}`" for c in codes), ""]
        elif str(status).startswith(("1", "2", "3")) or status == "default":
            lines += _content(ctx, _get(response, "content"), depth=_RESPONSE_DEPTH)
    return lines


def _field_line(item: SchemaField) -> str:
    details = [item.type]
    if item.required:
        details.append("required")
    if item.deprecated:
        details.append("deprecated")
    head = f"- `{item.path}` ({', '.join(details)})"
    if item.variants:
        head += f", only in {', '.join(item.variants)}"
    description = item.description
    if description and item.enum and description[-1] not in ".:!?|)":
        description += "."
    parts = [description] if description else []
    if item.enum:
        parts.append("Allowed values: " + ", ".join(f"`{v}`" for v in item.enum) + ".")
    body = "\n\n".join(parts) if "\n" in description else " ".join(parts)
    if not body:
        return head
    if "\n" not in body:
        return f"{head}: {body}"
    # Multi-line descriptions (often tables of error codes) stay inside the list item.
    indented = "\n".join(f"  {line}" if line.strip() else "" for line in body.splitlines())
    return f"{head}:\n\n{indented}\n"


def _metadata(
    method: str, api_path: str | None, operation_id: str | None, op: Mapping[str, Any]
) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {"method": method}
    if api_path:
        metadata["path"] = api_path
    if operation_id:
        metadata["operation_id"] = operation_id
    if _tags(op):
        metadata["tags"] = ",".join(_tags(op))
    return metadata


def _tags(op: Mapping[str, Any]) -> list[str]:
    tags = op.get("tags")
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _slug(api_path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", api_path.replace("{", "").replace("}", "")).strip("-")
    return slug or "root"


def _segment(name: str) -> str:
    """A doc-id path segment: no slashes or whitespace, so ids stay one level deep."""
    return re.sub(r"[\s/\\]+", "-", name).strip("-") or "unnamed"


def _unique(doc_id: str, seen: set[str]) -> str:
    candidate, n = doc_id, 2
    while candidate in seen:
        candidate, n = f"{doc_id}-{n}", n + 1
    seen.add(candidate)
    return candidate


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
