"""Value types shared by loaders, the chunker, the sync engine and retrieval."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

MetadataValue = str | int | float | bool


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SourceDocument:
    """One logical page of documentation, as loaded from a file.

    A Markdown or HTML file yields one; an OpenAPI spec yields one per operation,
    webhook and schema.  `text` is normalised Markdown: headings as `#` lines,
    code in fenced blocks, components already stripped.
    """

    doc_id: str
    source: str
    title: str
    text: str
    kind: str
    url: str | None = None
    metadata: dict[str, MetadataValue] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that ends up in the index changes."""
        extra = "\x1f".join(f"{k}={self.metadata[k]}" for k in sorted(self.metadata))
        return sha256_hex("\x1e".join([self.title, self.url or "", self.kind, extra, self.text]))


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document; `embed_text` is what the model sees."""

    doc_id: str
    index: int
    text: str
    heading_path: tuple[str, ...]
    anchor: str | None
    tokens: int

    def embed_text(self, title: str) -> str:
        trail = " > ".join(h for h in (title, *self.heading_path) if h)
        return f"{trail}\n\n{self.text}" if trail else self.text

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


class LoadError(Exception):
    """A file could not be read or parsed; the message names the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
