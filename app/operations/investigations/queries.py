"""Named, parameterised SQL investigations: the ``.sql`` files under ``queries/``.

A template is one SELECT (or WITH … SELECT) after a header of ``--`` comment lines::

    -- description: Tickets whose signals or messages mention an error code.
    -- param: code text -- The error code, any case (E_AUTH_401).
    -- param: since date = 1970-01-01 -- Only tickets opened on or after this day.

Parameter types: ``text``, ``int``, ``float``, ``date`` (YYYY-MM-DD, midnight UTC) and
``timestamp`` (ISO 8601; UTC unless it names an offset).  A parameter with ``= DEFAULT``
is optional.  The SQL names parameters as ``:name``; every one must be declared and
every declared one used.  The name of a template is its file name without ``.sql``.

Writes are refused twice: here, by reading the statement (one SELECT/WITH, no
data-changing or session-changing keyword outside strings and comments), and by the
database, which runs it read-only (sql_runner.py).  The first check exists to give a
clear error before anything runs; the second is the guarantee.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Float, Integer, String, TextClause, bindparam, text
from sqlalchemy.types import TypeEngine

from app.store.columns import UTCDateTime
from app.yaml_config import load_yaml_model

# queries/ at the repository root (beside app/).
DEFAULT_QUERIES_DIR = Path(__file__).resolve().parents[3] / "queries"

ParamType = Literal["text", "int", "float", "date", "timestamp"]
PARAM_TYPES: tuple[ParamType, ...] = get_args(ParamType)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(
    r"^(?P<name>\S+)\s+(?P<type>\S+)(?:\s*=\s*(?P<default>\S+))?(?:\s+--\s*(?P<doc>.*))?$"
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


class TemplateError(ValueError):
    """A template is missing, malformed or called wrongly; the message says how to fix it."""


class _Forbidden(BaseModel):
    model_config = ConfigDict(extra="forbid")

    words: frozenset[str]
    functions: frozenset[str]


@cache
def _forbidden() -> _Forbidden:
    return load_yaml_model(
        _Forbidden,
        path=None,
        builtin=("app.operations.investigations", "read_only_sql.yaml"),
        what="read-only SQL word list",
        error=TemplateError,
    )


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    default: str | None
    description: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    params: tuple[Param, ...]
    sql: str
    path: Path

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _header(lines: list[str], path: Path) -> tuple[str, list[Param]]:
    description: list[str] = []
    params: list[Param] = []
    for line in lines:
        body = line[2:].strip()
        key, _, value = body.partition(":")
        if key == "description":
            description.append(value.strip())
        elif key == "param":
            params.append(_param(value.strip(), path))
        elif description and not params and body:
            description.append(body)  # a description continued on the next line
    if not description:
        raise TemplateError(f"{path.name}: the header has no '-- description:' line")
    return " ".join(description), params


def _param(spec: str, path: Path) -> Param:
    match = _PARAM.match(spec)
    if match is None:
        raise TemplateError(f"{path.name}: cannot read '-- param: {spec}'")
    name, kind = match["name"], match["type"]
    if not _NAME.match(name):
        raise TemplateError(f"{path.name}: parameter name {name!r} is not lower_snake_case")
    if kind not in PARAM_TYPES:
        raise TemplateError(
            f"{path.name}: parameter {name} has type {kind!r}; use one of {', '.join(PARAM_TYPES)}"
        )
    param = Param(name, kind, match["default"], (match["doc"] or "").strip())
    if param.default is not None:
        convert(param, param.default, where=f"{path.name}: default of {name}")
    return param


def _code_only(sql: str) -> str:
    """The statement with comments, string literals and quoted names blanked out."""
    pattern = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", re.S)
    return pattern.sub(" ", sql)


def check_read_only(sql: str) -> None:
    """Refuse anything but a single SELECT or WITH … SELECT statement."""
    code = _code_only(sql).strip()
    body = code.rstrip(";").strip()
    if not body:
        raise TemplateError("the template holds no SQL statement")
    if ";" in body:
        raise TemplateError("a template must be a single statement (found ';' inside it)")
    words = [w.lower() for w in _WORD.findall(body)]
    if words[0] not in ("select", "with"):
        raise TemplateError(f"a template must start with SELECT or WITH, not {words[0].upper()}")
    forbidden = _forbidden()
    for word in words:
        if word in forbidden.words:
            raise TemplateError(f"a template may only read: {word.upper()} is not allowed")
        if word in forbidden.functions:
            raise TemplateError(f"a template may only read: {word}() is not allowed")


def bind_names(sql: str) -> set[str]:
    clause: TextClause = text(sql)
    return set(clause._bindparams)


def parse(path: Path) -> Template:
    raw = path.read_text(encoding="utf-8")
    lines = raw.splitlines()
    header = _leading_comments(lines)
    description, params = _header(header, path)
    sql = "\n".join(lines[len(header) :]).strip()
    name = path.stem
    if not _NAME.match(name):
        raise TemplateError(f"{path.name}: template names are lower_snake_case")
    try:
        check_read_only(sql)
    except TemplateError as exc:
        raise TemplateError(f"{path.name}: {exc}") from None
    declared = {p.name for p in params}
    used = bind_names(sql)
    if used - declared:
        raise TemplateError(
            f"{path.name}: undeclared parameters {', '.join(sorted(used - declared))}"
        )
    if declared - used:
        raise TemplateError(f"{path.name}: unused parameters {', '.join(sorted(declared - used))}")
    return Template(name, description, tuple(params), sql, path)


def _leading_comments(lines: list[str]) -> list[str]:
    header = []
    for line in lines:
        if not line.startswith("--"):
            break
        header.append(line)
    return header


def catalogue(directory: Path = DEFAULT_QUERIES_DIR) -> dict[str, Template]:
    """Every template in ``directory`` by name; a malformed one raises TemplateError."""
    if not directory.is_dir():
        raise TemplateError(f"no query directory at {directory}")
    return {t.name: t for t in map(parse, sorted(directory.glob("*.sql")))}


def find(name: str, directory: Path = DEFAULT_QUERIES_DIR) -> Template:
    path = directory / f"{name}.sql"
    if not _NAME.match(name) or not path.is_file():
        known = ", ".join(sorted(catalogue(directory))) or "none"
        raise TemplateError(f"unknown query {name!r}; known queries: {known}")
    return parse(path)


# -- binding -------------------------------------------------------------------------------


def convert(param: Param, raw: str, *, where: str | None = None) -> Any:
    """The Python value of ``raw`` for ``param``; TemplateError when it does not parse."""
    label = where or f"--param {param.name}"
    try:
        if param.type == "int":
            return int(raw)
        if param.type == "float":
            return float(raw)
        if param.type == "date":
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if param.type == "timestamp":
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    except ValueError:
        raise TemplateError(f"{label}: {raw!r} is not a valid {param.type}") from None
    if "\x00" in raw:
        raise TemplateError(f"{label}: the value contains a NUL character")
    return raw


def _sql_type(param: Param) -> TypeEngine[Any]:
    types: dict[ParamType, TypeEngine[Any]] = {
        "text": String(),
        "int": Integer(),
        "float": Float(),
        "date": UTCDateTime(),
        "timestamp": UTCDateTime(),
    }
    return types[param.type]


def bind(template: Template, given: Mapping[str, str]) -> tuple[TextClause, dict[str, Any]]:
    """The statement with typed parameters and their values; refuses unknown, missing and
    malformed parameters with a message naming them."""
    unknown = sorted(set(given) - {p.name for p in template.params})
    if unknown:
        takes = ", ".join(p.name for p in template.params) or "no parameters"
        raise TemplateError(
            f"unknown parameter {', '.join(unknown)} for query {template.name!r}; it takes {takes}"
        )
    missing = [p.name for p in template.params if p.required and p.name not in given]
    if missing:
        raise TemplateError(
            f"query {template.name!r} needs --param {'=… --param '.join(missing)}=…"
        )
    values = {
        p.name: convert(p, given[p.name] if p.name in given else str(p.default))
        for p in template.params
    }
    statement = text(template.sql).bindparams(
        *(bindparam(p.name, type_=_sql_type(p)) for p in template.params)
    )
    return statement, values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["k=v", …]`` from the command line; a repeated key is an error."""
    given: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TemplateError(f"--param {pair!r}: write it as NAME=VALUE")
        if key in given:
            raise TemplateError(f"--param {key} is given twice")
        given[key] = value
    return given
