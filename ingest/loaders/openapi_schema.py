"""JSON-Schema walking for OpenAPI specs: `$ref` resolution, flattened fields, error codes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

MAX_DEPTH = 5
_COMPOSITIONS = ("oneOf", "anyOf")
_ERROR_CODE_PROPS = ("code", "error_code", "errorCode", "error")
_ERROR_TABLE_ROW = re.compile(r"^\|\s*`?([A-Z][A-Z0-9_.]{2,})`?\s*\|", re.MULTILINE)
# Failure reasons are pasted from transaction objects just like error codes are from errors.
_ERROR_ENUM_SCHEMA = re.compile(r"(Error(Code|Type)|FailureReason)s?$")


@dataclass(frozen=True)
class SchemaField:
    path: str
    type: str
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] = ()
    deprecated: bool = False
    variants: tuple[str, ...] = ()  # set when only some oneOf variants have the field


class Resolver:
    """Follows local `$ref` pointers (`#/components/...`) inside one spec."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        # Keyed by id() of spec nodes; the node is stored too, which keeps it alive so
        # its id cannot be reused.  A big spec asks for the same schemas thousands of times.
        self._merged: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._labels: dict[int, tuple[Any, str]] = {}
        self._field_cache: dict[
            tuple[int, int, frozenset[str]], tuple[Any, tuple[SchemaField, ...]]
        ]
        self._field_cache = {}

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """The node behind any chain of `$ref`s, and the last referenced name."""
        name: str | None = None
        seen: set[str] = set()
        # dict, not Mapping: parsed specs are plain dicts and the ABC check is slow here.
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {}, ref.rsplit("/", 1)[-1]
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            node = self._pointer(ref)
        return node, name

    def _pointer(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return {}
        return node

    def type_label(self, node: Any) -> str:
        """A short human type: `string (date-time)`, `array of object (Address)`, `A | B`."""
        cached = self._labels.get(id(node))
        if cached is None or cached[0] is not node:
            cached = self._labels[id(node)] = (node, self._type_label(node, frozenset()))
        return cached[1]

    def _type_label(self, node: Any, _seen: frozenset[str]) -> str:
        schema, name = self.deref(node)
        if not isinstance(schema, Mapping):
            return "any"
        if name and name in _seen:
            return name  # a recursive schema: name it instead of expanding forever
        seen = _seen | {name} if name else _seen
        kind = schema.get("type")
        if isinstance(kind, list):
            label = " | ".join(str(k) for k in kind)
        elif kind == "array":
            label = f"array of {self._type_label(schema.get('items', {}), seen)}"
        elif kind == "object" and name:
            label = f"object ({name})"
        elif kind:
            label = str(kind)
        elif name:
            label = name
        elif schema.get("allOf"):
            # `allOf: [$ref: X]` is how 3.0 attaches a description to a reference.
            parts = [self._type_label(part, seen) for part in schema["allOf"]]
            label = " & ".join(p for p in parts if p not in ("any", "object")) or "object"
        elif any(key in schema for key in _COMPOSITIONS):
            key = next(k for k in _COMPOSITIONS if k in schema)
            label = " | ".join(self._type_label(v, seen) for v in schema[key]) or key
        else:
            label = "object" if "properties" in schema else "any"
        if isinstance(schema.get("format"), str) and kind != "array":
            label += f" ({schema['format']})"
        return label

    def merged(self, node: Any) -> dict[str, Any]:
        """An object schema with its `allOf` parts folded in (properties and required).

        The result is shared between callers: read it, never modify it.
        """
        cached = self._merged.get(id(node))
        if cached is None or cached[0] is not node:
            cached = self._merged[id(node)] = (node, self._merge(node, frozenset()))
        return cached[1]

    def _merge(self, node: Any, seen: frozenset[str]) -> dict[str, Any]:
        schema, name = self.deref(node)
        if not isinstance(schema, Mapping):
            return {}
        if name and name in seen:
            return {}
        seen = seen | {name} if name else seen
        result: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in schema.get("allOf") or []:
            sub = self._merge(part, seen)
            self._merge_properties(properties, sub.get("properties") or {})
            required.extend(sub.get("required") or [])
            for key in ("description", "type", "oneOf", "anyOf", "enum"):
                if key in sub and key not in result:
                    result[key] = sub[key]
        self._merge_properties(properties, schema.get("properties") or {})
        required.extend(schema.get("required") or [])
        if properties:
            result["properties"] = properties
        if required:
            result["required"] = list(dict.fromkeys(str(r) for r in required))
        return result

    def _merge_properties(self, into: dict[str, Any], new: Mapping[str, Any]) -> None:
        """allOf parts that restate a property (to narrow its enum) keep its description."""
        for name, sub in new.items():
            earlier, _ = self.deref(into.get(name))
            if (
                isinstance(sub, Mapping)
                and "description" not in sub
                and isinstance(earlier, Mapping)
                and earlier.get("description")
            ):
                into[name] = {**sub, "description": earlier["description"]}
            else:
                into[name] = sub

    def fields(self, node: Any, *, max_depth: int = MAX_DEPTH) -> list[SchemaField]:
        """Every property as a dotted path, nested objects and array items included."""
        return list(self._fields(node, max_depth, frozenset()))

    def _fields(self, node: Any, budget: int, seen: frozenset[str]) -> tuple[SchemaField, ...]:
        """Fields with paths relative to `node`, memoised: specs reuse schemas everywhere."""
        key = (id(node), budget, seen)
        cached = self._field_cache.get(key)
        if cached is None or cached[0] is not node:
            cached = self._field_cache[key] = (node, tuple(self._walk(node, budget, seen)))
        return cached[1]

    def _walk(self, node: Any, budget: int, seen: frozenset[str]) -> list[SchemaField]:
        _, name = self.deref(node)
        if budget <= 0 or (name and name in seen):
            return []
        seen = seen | {name} if name else seen
        schema = self.merged(node)
        if schema.get("type") == "array" or "items" in schema:
            items = self._fields(schema.get("items", {}), budget, seen)
            return [replace(f, path=_join("[]", f.path)) for f in items]
        variants = [v for key in _COMPOSITIONS for v in schema.get(key) or []]
        if variants and not schema.get("properties"):
            return self._variant_fields(variants, budget, seen)
        out: list[SchemaField] = []
        required = set(schema.get("required") or [])
        for prop, sub in (schema.get("properties") or {}).items():
            resolved, _ = self.deref(sub)
            resolved = resolved if isinstance(resolved, dict) else {}
            out.append(
                SchemaField(
                    path=str(prop),
                    type=self.type_label(sub),
                    required=prop in required,
                    description=_describe(sub, resolved),
                    enum=tuple(enum_values(self.merged(sub))),
                    deprecated=bool(resolved.get("deprecated") or _get(sub, "deprecated")),
                )
            )
            nested = self._fields(sub, budget - 1, seen)
            out.extend(replace(f, path=_join(str(prop), f.path)) for f in nested)
        return out

    def _variant_fields(
        self, variants: list[Any], budget: int, seen: frozenset[str]
    ) -> list[SchemaField]:
        by_path: dict[str, SchemaField] = {}
        owners: dict[str, list[str]] = {}
        labels = [self.type_label(v) for v in variants]
        for variant, label in zip(variants, labels, strict=True):
            for item in self._fields(variant, budget, seen):
                known = by_path.get(item.path)
                if known is None:
                    by_path[item.path] = item
                else:
                    # Variants often narrow a shared discriminator (`type: INDIVIDUAL`).
                    by_path[item.path] = replace(
                        known,
                        enum=tuple(dict.fromkeys([*known.enum, *item.enum])),
                        description=known.description or item.description,
                    )
                owners.setdefault(item.path, []).append(label)
        distinct = len(set(labels))
        return [
            replace(item, variants=tuple(dict.fromkeys(owners[path])))
            if len(set(owners[path])) < distinct
            else item
            for path, item in by_path.items()
        ]


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def _describe(node: Any, resolved: Mapping[str, Any]) -> str:
    # A description next to a $ref is more specific than the referenced schema's own.
    text = _get(node, "description") or resolved.get("description") or ""
    return str(text).strip()


def enum_values(schema: Mapping[str, Any]) -> list[str]:
    values = schema.get("enum")
    if values is None and "const" in schema:
        values = [schema["const"]]
    if not isinstance(values, list):
        return []
    return [str(v) for v in values if v is not None]


def iter_operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation under `paths`."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    resolver = Resolver(spec)
    for path, raw_item in (spec.get("paths") or {}).items():
        item, _ = resolver.deref(raw_item)
        if not isinstance(item, Mapping):
            continue
        for method in methods:
            operation = item.get(method)
            if isinstance(operation, Mapping):
                yield method.upper(), str(path), dict(operation)


def error_codes_from_spec(spec: Mapping[str, Any]) -> set[str]:
    """Every error code the spec declares for its 4xx/5xx responses.

    Codes come from enums of `code`-like properties of the error schemas, from
    Markdown tables of codes in their descriptions, and from component schemas
    named `…ErrorCode`/`…ErrorType`/`…FailureReason` that are plain enums.
    """
    resolver = Resolver(spec)
    codes: set[str] = set()
    for _method, _path, operation in iter_operations(spec):
        for status, raw_response in (operation.get("responses") or {}).items():
            if not str(status).startswith(("4", "5")) and str(status) != "default":
                continue
            response, _ = resolver.deref(raw_response)
            for media in (_get(response, "content") or {}).values():
                codes |= _schema_error_codes(resolver, _get(media, "schema"))
    schemas = _get(spec.get("components"), "schemas") or {}
    for name, schema in schemas.items():
        if _ERROR_ENUM_SCHEMA.search(str(name)):
            codes.update(v for v in enum_values(resolver.merged(schema)) if _looks_like_code(v))
    return codes


def _schema_error_codes(resolver: Resolver, node: Any) -> set[str]:
    if node is None:
        return set()
    schema = resolver.merged(node)
    codes: set[str] = set()
    for variant in [v for key in _COMPOSITIONS for v in schema.get(key) or []]:
        codes |= _schema_error_codes(resolver, variant)
    properties = schema.get("properties") or {}
    for prop in _ERROR_CODE_PROPS:
        if prop not in properties:
            continue
        sub = resolver.merged(properties[prop])
        codes.update(v for v in enum_values(sub) if _looks_like_code(v))
        codes.update(_ERROR_TABLE_ROW.findall(str(sub.get("description") or "")))
        codes |= _schema_error_codes(resolver, properties[prop])  # {"error": {"code": …}}
    return codes


def response_error_codes(resolver: Resolver, response: Any) -> list[str]:
    """The error codes one response can carry, in the order the spec lists them."""
    response, _ = resolver.deref(response)
    found: list[str] = []
    for media in (_get(response, "content") or {}).values():
        schema = resolver.merged(_get(media, "schema"))
        for prop in _ERROR_CODE_PROPS:
            sub = resolver.merged((schema.get("properties") or {}).get(prop))
            found.extend(v for v in enum_values(sub) if _looks_like_code(v))
    return list(dict.fromkeys(found))


def _looks_like_code(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]{1,80}", value))
