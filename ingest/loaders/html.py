"""HTML pages: the main content as Markdown, page chrome (nav, header, footer) dropped."""

from __future__ import annotations

import re
import warnings
from pathlib import PurePosixPath

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.element import NavigableString, PreformattedString, Tag

from ingest.loaders.source_file import Hints, doc_id_for
from ingest.types import SourceDocument

_ALWAYS_DROP = ("script", "style", "noscript", "template", "nav", "aside", "svg", "iframe")
_CHROME = ("header", "footer")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_NAMES = (
    "address article blockquote dd details dialog div dl dt fieldset figcaption figure "
    "form main p section summary caption"
)
_BLOCKS = frozenset(_BLOCK_NAMES.split())
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BREAK = "\x01"  # a <br>, kept through whitespace collapsing


def load_html(text: str, *, source: str, hints: Hints) -> SourceDocument:
    with warnings.catch_warnings():
        # A short document that looks like a file name is still a document here.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "lxml")
    title = _title(soup)
    url = _canonical_url(soup)
    content = soup.find("main") or soup.find("article") or soup.body or soup
    for name in _ALWAYS_DROP:
        for element in content.find_all(name):
            element.decompose()
    if content.name not in ("main", "article"):
        # Outside an explicit main region, header/footer are site chrome; inside
        # <article> a <header> usually holds the page's own title, so it stays.
        for name in _CHROME:
            for element in content.find_all(name):
                element.decompose()
    writer = _Writer()
    writer.children(content)
    return SourceDocument(
        doc_id=doc_id_for(source),
        source=source,
        title=title or hints.title or PurePosixPath(source).stem,
        text=writer.markdown(),
        kind=hints.kind or "doc",
        url=url or hints.url,
    )


def _title(soup: BeautifulSoup) -> str | None:
    for element in (soup.title, soup.find("h1")):
        if element is not None:
            text = _SPACES.sub(" ", element.get_text()).strip()
            if text:
                return text
    return None


def _canonical_url(soup: BeautifulSoup) -> str | None:
    for element, attr in (
        (soup.find("link", rel="canonical"), "href"),
        (soup.find("meta", attrs={"property": "og:url"}), "content"),
    ):
        if isinstance(element, Tag):
            value = element.get(attr)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


class _Writer:
    """Walks the tree once, collecting Markdown blocks; inline text accumulates per block."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, bool]] = []  # (text, is a list item / table row)
        self.inline: list[str] = []
        self.list_depth = 0

    def markdown(self) -> str:
        self.flush()
        out: list[str] = []
        previous_tight = False
        for text, tight in self.blocks:
            if not text:  # boundary between two adjacent lists
                previous_tight = False
                continue
            if out:
                out.append("\n" if tight and previous_tight else "\n\n")
            out.append(text)
            previous_tight = tight
        return "".join(out).strip() + "\n" if out else ""

    def flush(self, prefix: str = "", tight: bool = False) -> bool:
        text = _SPACES.sub(" ", "".join(self.inline)).strip()
        text = re.sub(rf" ?{_BREAK}+ ?", "\n", text).strip()
        self.inline = []
        if text:
            self.blocks.append((prefix + text, tight))
        return bool(text)

    def children(self, element: Tag) -> None:
        for child in element.children:
            if isinstance(child, PreformattedString):
                continue  # comments, doctype, CDATA, processing instructions
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
            elif isinstance(child, Tag):
                self.element(child)

    def element(self, element: Tag) -> None:
        name = element.name
        if name in _HEADINGS:
            self.flush()
            self.children(element)
            self.flush(prefix="#" * _HEADINGS[name] + " ")
        elif name == "pre":
            self.flush()
            self.blocks.append((_fenced(element), False))
        elif name == "code":
            self.inline.append(f"`{element.get_text()}`")
        elif name == "br":
            self.inline.append(_BREAK)
        elif name in ("ul", "ol"):
            self.flush()
            self.list_depth += 1
            for item in element.find_all("li", recursive=False):
                self.list_item(item)
            self.list_depth -= 1
            if not self.list_depth:
                self.blocks.append(("", False))
        elif name == "li":
            self.list_item(element)
        elif name == "table":
            self.flush()
            table = _table(element)
            if table:
                self.blocks.append((table, False))
        elif name in ("img", "hr", "input", "button"):
            return
        elif name in _BLOCKS:
            self.flush()
            self.children(element)
            self.flush()
        else:
            self.children(element)

    def list_item(self, item: Tag) -> None:
        indent = "  " * max(0, self.list_depth - 1)
        self.flush()
        marked = False
        for child in item.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                marked |= self.flush(prefix=indent + ("  " if marked else "- "), tight=True)
                self.element(child)
            elif isinstance(child, Tag) and child.name in _BLOCKS:
                # <li><p>…</p></li> is still one list item, not a paragraph after it.
                self.children(child)
                self.inline.append(" ")
            elif isinstance(child, Tag):
                self.element(child)
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                self.inline.append(str(child))
        self.flush(prefix=indent + ("  " if marked else "- "), tight=True)


def _fenced(pre: Tag) -> str:
    code = pre.get_text().strip("\n")
    language = ""
    for element in (pre, pre.find("code")):
        if isinstance(element, Tag):
            for cls in element.get("class") or []:
                if cls.startswith(("language-", "lang-")):
                    language = cls.split("-", 1)[1]
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def _table(table: Tag) -> str:
    rows: list[str] = []
    for index, row in enumerate(table.find_all("tr")):
        cells = [
            _SPACES.sub(" ", cell.get_text(" ")).strip().replace("|", "\\|")
            for cell in row.find_all(("th", "td"))
        ]
        if not any(cells):
            continue
        rows.append("| " + " | ".join(cells) + " |")
        if index == 0 and row.find("th") is not None:
            rows.append("|" + " --- |" * len(cells))
    return "\n".join(rows)
