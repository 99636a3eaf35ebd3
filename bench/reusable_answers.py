"""Reusable answers on the Grid dev set: do paraphrases match, do other questions not?

Builds reusable answers from grid_dev.jsonl's answerable rows as if agents had approved
their reference answers (each citing the chunk of its first gold doc closest to the
reference), then asks two sets of questions nobody approved:

* ``grid_paraphrases.jsonl``: rewordings of grid_dev questions (``paraphrase_of``); the
  right outcome is a match with the original's answer;
* ``grid_dev_b.jsonl``: 50 different questions; any match there is a false match (they
  are listed, so a reader can see whether one is really the same question).

Prints both rates across similarity thresholds, then, with ``--pipeline``, two runs of
the offline pipeline over the same questions (docs only; docs + reusable answers, the
reusable answer served when it matches) scored by key-fact recall against each row's
reference answer (the original's reference for a paraphrase).

    python bench/reusable_answers.py                       # uses /work/grid-data (read-only)
    python bench/reusable_answers.py --data-dir DIR --pipeline --threshold 0.85

The docs collection is only read; answers, their vectors and the SQLite rows live in a
temporary directory.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import REPO, print_table

from app.answers.index import AnswerIndex
from app.answers.service import ReusableAnswers
from app.knowledge import KnowledgeBase, build_knowledge_base
from app.settings import Settings
from app.store import create_engine_for, migrate, session_factory
from app.triage.screen.secrets import redact_secrets
from ingest.vectorstore import make_chroma_client

DATASETS = REPO / "evals" / "datasets"
THRESHOLDS = (0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.88, 0.90)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9_]{3,}")
# Wall time of each match() call (embedding the question + the Chroma query).
MATCH_MS: list[float] = []


def _rows(name: str) -> list[dict[str, Any]]:
    path = DATASETS / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _best_quote(chunk_text: str, reference: str) -> str | None:
    """The chunk sentence sharing most words with the reference (what an agent would cite)."""
    words = set(_WORD.findall(reference.lower()))
    best, best_overlap = None, -1
    for raw in _SENTENCE.split(chunk_text):
        sentence = raw.strip(" #*-|>")
        if not 30 <= len(sentence) <= 300:
            continue
        overlap = len(words & set(_WORD.findall(sentence.lower())))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


@dataclass
class Learnt:
    answer_ids: dict[str, str]  # answer id -> grid_dev row id
    skipped: list[str]


def build_answers(kb: KnowledgeBase, answers: ReusableAnswers) -> Learnt:
    learnt = Learnt({}, [])
    for row in _rows("grid_dev.jsonl"):
        if not row.get("answerable") or not row.get("gold_doc_ids"):
            continue
        gold = row["gold_doc_ids"][0]
        vector = kb.embeddings.embed_query(row["reference_answer"])
        found = kb.store.query(vector, 1, {"doc_id": gold})
        quote = _best_quote(found[0][0].text, row["reference_answer"]) if found else None
        if not found or quote is None:
            learnt.skipped.append(row["id"])
            continue
        chunk = found[0][0]
        citation = {
            "chunk_id": chunk.chunk_id,
            "doc_id": gold,
            "source": str(chunk.metadata.get("source", "")),
            "url": chunk.metadata.get("url"),
            "quote": quote,
        }
        answer_id = answers.add(
            question=redact_secrets(row["message"]).text,
            answer=row["reference_answer"],
            citations=[citation],
            language=row.get("language", "en"),
            category=row.get("category"),
        )
        if answer_id is None:
            learnt.skipped.append(row["id"])
        else:
            learnt.answer_ids[answer_id] = row["id"]
    return learnt


@dataclass
class Nearest:
    row: dict[str, Any]
    matched_row: str | None
    similarity: float


def nearest(index: AnswerIndex, learnt: Learnt, rows: list[dict[str, Any]]) -> list[Nearest]:
    """Top-1 stored answer per question (same language), whatever its similarity."""
    index.min_similarity = -1.0
    out = []
    for row in rows:
        question = redact_secrets(row["message"]).text
        started = time.perf_counter()
        hit = index.match(question, language=row.get("language"))
        MATCH_MS.append((time.perf_counter() - started) * 1000)
        if hit is None:
            out.append(Nearest(row, None, 0.0))
        else:
            out.append(Nearest(row, learnt.answer_ids[hit.id], hit.similarity))
    return out


def _rate(count: int, total: int) -> str:
    return f"{count}/{total} ({100.0 * count / max(total, 1):.0f} %)"


def report_thresholds(paraphrases: list[Nearest], others: list[Nearest]) -> None:
    lines = []
    for t in THRESHOLDS:
        right = sum(
            1 for n in paraphrases if n.similarity >= t and n.matched_row == n.row["paraphrase_of"]
        )
        wrong = sum(
            1 for n in paraphrases if n.similarity >= t and n.matched_row != n.row["paraphrase_of"]
        )
        false = sum(1 for n in others if n.similarity >= t)
        lines.append(
            (
                f"cosine >= {t:.2f}",
                f"paraphrases matched right {_rate(right, len(paraphrases))}, "
                f"matched a wrong answer {wrong}; "
                f"grid_dev_b false matches {_rate(false, len(others))}",
            )
        )
    print_table("match rates by threshold", lines)
    sims = sorted(n.similarity for n in paraphrases if n.matched_row == n.row["paraphrase_of"])
    other_sims = sorted(n.similarity for n in others)
    print_table(
        "top-1 similarity",
        [
            (
                "paraphrases (right answer)",
                f"min {sims[0]:.3f}  median {statistics.median(sims):.3f}",
            ),
            (
                "grid_dev_b (different questions)",
                f"max {other_sims[-1]:.3f}  median {statistics.median(other_sims):.3f}",
            ),
        ],
    )


def list_cases(title: str, cases: list[Nearest]) -> None:
    print(f"\n== {title}")
    for n in cases:
        print(
            f"  {n.row['id']} -> {n.matched_row} @ {n.similarity:.3f}: {n.row['message'][:110]!r}"
        )


def pipeline_runs(
    settings: Settings,
    kb: KnowledgeBase,
    index: AnswerIndex,
    threshold: float,
    sets: dict[str, list[dict[str, Any]]],
    reference_of: Callable[[dict[str, Any]], str],
) -> None:
    from app.services.pipelines import build_pipeline

    try:
        from evals.score.usefulness import key_fact_recall
    except ImportError:
        print("\n(evals.score.usefulness is not available: pipeline runs skipped)")
        return
    pipeline = build_pipeline(settings, kb)
    index.min_similarity = threshold
    for name, rows in sets.items():
        docs_only: list[float] = []
        with_answers: list[float] = []
        served = 0
        for row in rows:
            reference = reference_of(row)
            result = pipeline.run(row["message"])
            draft = "" if result.draft.needs_human else result.draft.text
            matched = index.match(result.message, language=result.triage.language)
            reused = matched.text if matched is not None else draft
            served += matched is not None
            for scores, text in ((docs_only, draft), (with_answers, reused)):
                recall = key_fact_recall(reference, text, row["message"])
                if recall is not None:
                    scores.append(recall)
        print_table(
            f"pipeline on {name} ({len(rows)} rows, threshold {threshold:.2f})",
            [
                ("answers served from reusable answers", f"{served}/{len(rows)}"),
                (
                    "key-fact recall, docs only",
                    f"{statistics.mean(docs_only):.3f} over {len(docs_only)} rows with facts; "
                    f"≥ 0.5 on {sum(s >= 0.5 for s in docs_only)}",
                ),
                (
                    "key-fact recall, docs + reusable answers",
                    f"{statistics.mean(with_answers):.3f}; "
                    f"≥ 0.5 on {sum(s >= 0.5 for s in with_answers)}",
                ),
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/grid-data"))
    parser.add_argument("--collection", default="docs")
    parser.add_argument("--threshold", type=float, default=None, help="default: settings")
    parser.add_argument("--pipeline", action="store_true", help="also run the pipeline twice")
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir, collection=args.collection, embedding_threads=2)
    threshold = args.threshold or settings.reusable_answer_min_similarity
    kb = build_knowledge_base(settings, refresh_seconds=3600)
    if not kb.store.exists():
        raise SystemExit(f"no collection {args.collection!r} under {args.data_dir}: ingest first")
    with tempfile.TemporaryDirectory(prefix="reusable-answers-") as tmp:
        engine = create_engine_for(f"sqlite:///{tmp}/answers.db")
        migrate(engine)
        index = AnswerIndex(
            make_chroma_client(chroma_url=None, persist_path=f"{tmp}/chroma"),
            kb.store.name,
            kb.embeddings,
            model_name=kb.embeddings.model_name,
            dimension=kb.embeddings.dimension,
            min_similarity=threshold,
        )
        answers = ReusableAnswers(index, kb.store, session_factory(engine))
        learnt = build_answers(kb, answers)
        print_table(
            "reusable answers built",
            [
                (
                    "docs collection",
                    f"{kb.store.name} ({kb.store.count()} chunks) in {args.data_dir}",
                ),
                ("from grid_dev answerable rows", str(len(learnt.answer_ids))),
                ("skipped (no verifiable quote)", ", ".join(learnt.skipped) or "none"),
            ],
        )
        paraphrase_rows = _rows("grid_paraphrases.jsonl")
        other_rows = _rows("grid_dev_b.jsonl")
        paraphrases = nearest(index, learnt, paraphrase_rows)
        others = nearest(index, learnt, other_rows)
        report_thresholds(paraphrases, others)
        ms = sorted(MATCH_MS)
        print_table(
            "match() latency (embed + query, 74 answers stored)",
            [
                (
                    "p50 / p99",
                    f"{statistics.median(ms):.1f} ms / {ms[int(0.99 * (len(ms) - 1))]:.1f} ms",
                )
            ],
        )
        list_cases(
            f"paraphrases not matched right at {threshold:.2f}",
            [
                n
                for n in paraphrases
                if n.similarity < threshold or n.matched_row != n.row["paraphrase_of"]
            ],
        )
        list_cases(
            f"grid_dev_b false matches at {threshold:.2f}",
            [n for n in others if n.similarity >= threshold],
        )
        list_cases(
            "grid_dev_b closest five (the margin below the threshold)",
            sorted(others, key=lambda n: n.similarity, reverse=True)[:5],
        )
        if args.pipeline:
            dev = {r["id"]: r for r in _rows("grid_dev.jsonl")}

            def reference_of(row: dict[str, Any]) -> str:
                original = dev.get(row.get("paraphrase_of", ""), row)
                return str(original["reference_answer"])

            pipeline_runs(
                settings,
                kb,
                index,
                threshold,
                {"grid_paraphrases": paraphrase_rows, "grid_dev_b": other_rows},
                reference_of,
            )
        engine.dispose()


if __name__ == "__main__":
    main()
