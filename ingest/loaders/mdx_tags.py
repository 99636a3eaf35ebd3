"""Remove JSX components and HTML tags from MDX prose, keeping the words people read.

Works on prose only (the caller keeps fenced code out of it).  A component's
`title` (or `label`/`summary`) survives as a bold line, API field components keep
their name and type, inline code spans and `\\<` escapes are left untouched, and
anything that is not clearly a tag (`<YOUR_API_KEY>`, `<https://…>`, `a < b`)
stays literal text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

AttrValue = str | bool | None  # None: a JSX expression that is not a literal


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HTML_BLOCK = _words(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption "
    "figure footer form header main nav ol p pre section table tbody tfoot thead ul"
)
_HTML_INLINE = _words(
    "a abbr b bdi bdo button cite del dfn em font i ins kbd label mark q s samp small span "
    "strike strong sub sup time tt u var"
)
_HTML_VOID = _words("area base br col embed hr img input link meta param source track wbr")
# Elements whose content is markup or code for the browser, not text for the reader.
_HTML_DROP = _words(
    "audio canvas head iframe map math noscript object picture script style svg template "
    "title video"
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HTML_NAMES = (
    _HTML_BLOCK
    | _HTML_INLINE
    | _HTML_VOID
    | _HTML_DROP
    | set(_HEADINGS)
    | {"code", "li", "summary", "td", "th", "tr", "caption"}
)

_FIELD_COMPONENTS = frozenset({"ParamField", "ResponseField", "Field", "Property"})
_FIELD_LOCATIONS = ("path", "query", "body", "header", "cookie")
_FIELD_NAME_ATTRS = ("name", *_FIELD_LOCATIONS, "param", "field")
_TITLE_ATTRS = ("title", "label", "summary")

_SCAN = re.compile(r"\\.|`+|<!--|<|\{/\*|\}", re.DOTALL)
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*(?:[.:-][A-Za-z0-9]+)*)")
_ATTR_NAME = re.compile(r"[^\s=/>\"'{}<`]+")
_UNQUOTED = re.compile(r"[^\s>\"'=<`]+")
_EXPRESSION_CLOSE = re.compile(r"\}\s*/?>")
_MAX_TAG_CHARS = 4000


@dataclass
class TagState:
    """What carries over from one prose segment to the next (code blocks sit between)."""

    dropping: str | None = None  # inside e.g. <svg>: everything up to its end goes
    drop_depth: int = 0
    # Inside `<LanguageSpecific kt={ …prose… } />`: the attribute holds readable text.
    open_expression: bool = False


@dataclass
class _Tag:
    name: str
    closing: bool
    self_closing: bool
    end: int
    attrs: dict[str, AttrValue] = field(default_factory=dict)
    opens_expression: bool = False

    @property
    def is_component(self) -> bool:
        return self.name[0].isupper()


def strip_tags(text: str, state: TagState) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if state.dropping:
            i = _skip_dropped(text, i, state)
            continue
        m = _SCAN.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        out.append(text[i : m.start()])
        token, start, i = m.group(), m.start(), m.end()
        if token[0] == "\\":
            out.append(token)
        elif token[0] == "`":
            end = _code_span_end(text, i, len(token))
            out.append(text[start:end] if end else token)
            i = end or i
        elif token in ("{/*", "<!--"):
            closer = "*/}" if token == "{/*" else "-->"
            end = text.find(closer, i)
            if end < 0:
                out.append(token)
            else:
                i = end + len(closer)
        elif token == "}":
            close = _EXPRESSION_CLOSE.match(text, start) if state.open_expression else None
            if close:
                state.open_expression = False
                out.append("\n\n")
                i = close.end()
            else:
                out.append(token)
        else:
            tag = _parse_tag(text, start)
            if tag is None:
                out.append(token)
            else:
                out.append(_render(tag, state))
                i = tag.end
    return "".join(out)


def _code_span_end(text: str, i: int, ticks: int) -> int | None:
    """End of an inline code span opened by `ticks` backticks, if it closes in its paragraph."""
    closer = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)")
    m = closer.search(text, i)
    if m is None or re.search(r"\n[ \t]*\n", text[i : m.start()]):
        return None
    return m.end()


def _skip_dropped(text: str, i: int, state: TagState) -> int:
    name = state.dropping or ""
    pattern = re.compile(rf"<(/?){re.escape(name)}(?=[\s/>])[^>]*?(/?)>", re.IGNORECASE)
    for m in pattern.finditer(text, i):
        if m.group(1):
            state.drop_depth -= 1
        elif not m.group(2):
            state.drop_depth += 1
        if state.drop_depth <= 0:
            state.dropping, state.drop_depth = None, 0
            return m.end()
    return len(text)


def _is_tag_name(name: str) -> bool:
    if name[0].isupper():
        # CamelCase components only: `<STATUS>` or `<T>` are placeholders, not tags.
        return any(c.islower() for c in name)
    return name.lower() in _HTML_NAMES and name == name.lower()


def _parse_tag(text: str, start: int) -> _Tag | None:
    m = _TAG_NAME.match(text, start)
    if m is None or not _is_tag_name(m.group(2)):
        return None
    closing, name = bool(m.group(1)), m.group(2)
    glued = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
    if glued and name[0].isupper():
        return None  # `Task<IActionResult>` is a type, not a component
    tag = _Tag(name=name, closing=closing, self_closing=False, end=m.end())
    i, limit = m.end(), min(len(text), start + _MAX_TAG_CHARS)
    if i < limit and not (text[i].isspace() or text[i] in "/>"):
        return None
    while True:
        while i < limit and text[i].isspace():
            i += 1
        if i >= limit:
            return None
        if text[i] == ">":
            tag.end = i + 1
            break
        if text.startswith("/>", i):
            tag.self_closing, tag.end = True, i + 2
            break
        if closing or glued:
            return None  # closing tags, and tags glued to a word, carry no attributes
        if text[i] == "{":  # a spread: {...props}
            end = _match_brace(text, i)
            if end is None:
                return _open_expression(tag, i)
            i = end + 1
            continue
        name_match = _ATTR_NAME.match(text, i)
        if name_match is None:
            return None
        attr, i = name_match.group(), name_match.end()
        while i < limit and text[i] in " \t":
            i += 1
        if i >= limit or text[i] != "=":
            tag.attrs[attr] = True
            continue
        i += 1
        while i < limit and text[i].isspace():
            i += 1
        if i >= limit:
            return None
        quote = text[i]
        if quote in "\"'":
            end = text.find(quote, i + 1)
            if end < 0:
                return None
            tag.attrs[attr] = html.unescape(text[i + 1 : end])
            i = end + 1
        elif quote == "{":
            end = _match_brace(text, i)
            if end is None:
                return _open_expression(tag, i)
            tag.attrs[attr] = _literal(text[i + 1 : end])
            i = end + 1
        else:
            value = _UNQUOTED.match(text, i)
            if value is None:
                return None
            tag.attrs[attr] = value.group()
            i = value.end()
    if name.lower() in _HTML_VOID:
        tag.self_closing = True
    return tag


def _open_expression(tag: _Tag, brace: int) -> _Tag | None:
    if not tag.is_component:
        return None
    tag.opens_expression, tag.end = True, brace + 1
    return tag


def _match_brace(text: str, i: int) -> int | None:
    """Index of the `}` closing the `{` at `i`, skipping string literals on one line."""
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c in "\"'`":
            end = text.find(c, j + 1)
            newline = text.find("\n", j + 1)
            if end > 0 and (c == "`" or newline < 0 or end < newline):
                j = end + 1
                continue
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None


def _literal(expression: str) -> AttrValue:
    expr = expression.strip()
    if len(expr) >= 2 and expr[0] == expr[-1] and expr[0] in "\"'`":
        return expr[1:-1]
    if expr in ("true", "false"):
        return expr == "true"
    if re.fullmatch(r"-?\d+(\.\d+)?", expr):
        return expr
    return None


def _render(tag: _Tag, state: TagState) -> str:
    if tag.is_component:
        return _render_component(tag, state)
    name = tag.name.lower()
    if name in _HTML_DROP:
        if not (tag.closing or tag.self_closing):
            state.dropping, state.drop_depth = name, 1
        return ""
    if name in _HTML_VOID:
        return {"br": " ", "hr": "\n\n"}.get(name, "")
    if name == "code":
        return "`"
    if name == "li":
        return "\n" if tag.closing else "\n- "
    if name in _HEADINGS:
        return "\n\n" if tag.closing else "\n\n" + "#" * _HEADINGS[name] + " "
    if name == "summary":
        return "**\n\n" if tag.closing else "\n\n**"
    if name in ("td", "th"):
        return " " if tag.closing else " | "
    if name in ("tr", "caption") or name in _HTML_BLOCK:
        return "\n" if name == "tr" else "\n\n"
    return ""


def _render_component(tag: _Tag, state: TagState) -> str:
    if tag.opens_expression:
        state.open_expression = True
    if tag.closing:
        return "\n\n"
    if tag.name in _FIELD_COMPONENTS:
        line = _field_line(tag.attrs)
        return f"\n\n{line}\n\n" if line else "\n\n"
    title = _first_text(tag.attrs, _TITLE_ATTRS)
    return f"\n\n**{title}**\n\n" if title else "\n\n"


def _field_line(attrs: dict[str, AttrValue]) -> str:
    name = _first_text(attrs, _FIELD_NAME_ATTRS)
    if not name:
        return ""
    details = [key for key in _FIELD_LOCATIONS if isinstance(attrs.get(key), str)]
    kind = _first_text(attrs, ("type",))
    if kind:
        details.append(kind)
    if attrs.get("required") is True or attrs.get("required") == "true":
        details.append("required")
    default = _first_text(attrs, ("default",))
    if default:
        details.append(f"default: {default}")
    return f"**{name}**" + (f" ({', '.join(details)})" if details else "")


def _first_text(attrs: dict[str, AttrValue], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None
