"""The messages the demo history replays, with the labels they are known to carry.

Rows come from the repository's dev sets (evals/datasets/*.jsonl) and the shared eval
questions (../shared/data/eval), read in place.  A translated row (``source_id``) or a
paraphrase (``paraphrase_of``) takes the labels of the row it comes from.  Each message
keeps its gold labels so that other tools can measure against them: category and
priority (Grid rows), answerable, the corpus it was written for and its gold documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.operations.demo.config import Source

REPO_ROOT = Path(__file__).resolve().parents[3]


class SourceError(ValueError):
    """A message file is missing or malformed."""


@dataclass(frozen=True)
class DemoMessage:
    key: str  # "<file stem>:<row id>", unique
    source: str  # the config's group name
    text: str
    channel: str | None
    language: str
    category: str | None
    priority: str | None
    answerable: bool
    corpus: str | None
    gold_doc_ids: tuple[str, ...] = ()
    reference_answer: str | None = None
    # Whether the docs of this data dir answer it; set once the knowledge base is known.
    documented: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def label(self) -> dict[str, Any]:
        """What is kept in the ticket's metadata (``metadata.demo``)."""
        return {
            "message_key": self.key,
            "source": self.source,
            "category": self.category,
            "priority": self.priority,
            "answerable": self.answerable,
            "documented": self.documented,
            "corpus": self.corpus,
            "language": self.language,
            "gold_doc_ids": list(self.gold_doc_ids),
        }


def _resolve(spec: str, eval_dir: Path | None) -> Path | None:
    kind, _, rel = spec.partition(":")
    if kind == "repo":
        return REPO_ROOT / rel
    return None if eval_dir is None else eval_dir / rel


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise SourceError(f"{path}:{number}: a row must be a JSON object")
        rows.append(row)
    return rows


def _answerable(row: Mapping[str, Any]) -> bool:
    if "answerable" in row:
        return bool(row["answerable"])
    answerability = row.get("answerability")
    if isinstance(answerability, list):  # MTRAG-UN: ["ANSWERABLE"] and the like
        return answerability == ["ANSWERABLE"]
    return bool(row.get("reference_answer"))


def _message(row: Mapping[str, Any], stem: str, source: Source) -> DemoMessage | None:
    text = row.get("message") or row.get("question")
    if not isinstance(text, str) or not text.strip() or "id" not in row:
        return None
    gold = row.get("gold_doc_ids", row.get("reference_doc_ids")) or []
    reference = row.get("reference_answer")
    return DemoMessage(
        key=f"{stem}:{row['id']}",
        source=source.name,
        text=text,
        channel=row.get("channel"),
        language=str(row.get("language") or "en"),
        category=row.get("category"),
        priority=row.get("priority"),
        answerable=_answerable(row),
        corpus=source.corpus or row.get("corpus"),
        gold_doc_ids=tuple(str(g) for g in gold),
        reference_answer=reference if isinstance(reference, str) else None,
        extra={k: row[k] for k in ("source_id", "paraphrase_of") if k in row},
    )


def _inherit(messages: list[DemoMessage]) -> list[DemoMessage]:
    """Translations and paraphrases take their original's labels (theirs where given)."""
    by_id = {m.key.split(":", 1)[1]: m for m in messages if not m.extra}
    out = []
    for m in messages:
        origin_id = m.extra.get("source_id") or m.extra.get("paraphrase_of")
        origin = by_id.get(str(origin_id)) if origin_id else None
        if origin is None:
            out.append(m)
            continue
        out.append(
            replace(
                m,
                channel=m.channel or origin.channel,
                category=m.category or origin.category,
                priority=m.priority or origin.priority,
                corpus=m.corpus or origin.corpus,
                gold_doc_ids=m.gold_doc_ids or origin.gold_doc_ids,
                # A paraphrase asks the same thing: same answer, same answerability.
                answerable=origin.answerable if "paraphrase_of" in m.extra else m.answerable,
                reference_answer=m.reference_answer or origin.reference_answer,
            )
        )
    return out


def load_group(source: Source, eval_dir: Path | None) -> list[DemoMessage]:
    """The group's messages; an ``eval:`` file is skipped when the shared folder is absent."""
    messages: list[DemoMessage] = []
    for spec in source.files:
        path = _resolve(spec, eval_dir)
        if path is None or (spec.startswith("eval:") and not path.is_file()):
            continue
        for row in _read(path):
            if any(str(row.get(k)) != v for k, v in source.only.items()):
                continue
            message = _message(row, path.stem, source)
            if message is not None:
                messages.append(message)
    messages = _inherit(messages)
    # One message per text: the same question in two files is one message.
    unique: dict[str, DemoMessage] = {}
    for m in messages:
        unique.setdefault(m.text, m)
    return list(unique.values())


def mark_documented(
    messages: Iterable[DemoMessage], doc_ids: set[str], corpora: set[str]
) -> list[DemoMessage]:
    """Set ``documented``: answerable, written for a corpus this knowledge base holds, and
    (when its gold documents are named as doc ids) one of them is indexed."""
    out = []
    for m in messages:
        known_corpus = m.corpus is not None and m.corpus in corpora
        gold_in_kb = not m.gold_doc_ids or any(g in doc_ids for g in m.gold_doc_ids)
        # Shared FAQ rows name their pages in the manifest's form (grid/…), not as doc
        # ids: for those the corpus decides.
        manifest_form = all("/" in g and not g.startswith("docs/") for g in m.gold_doc_ids)
        documented = m.answerable and known_corpus and (gold_in_kb or manifest_form)
        out.append(replace(m, documented=documented))
    return out
