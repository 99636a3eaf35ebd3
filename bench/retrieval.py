"""Retrieval quality on evals/datasets/grid_dev.jsonl: dense, lexical and hybrid, beside
a naive LangChain baseline (RecursiveCharacterTextSplitter 1000/200 + Chroma similarity
search with the same embedding model), all in the same run on the canonical Grid pages.

Goal: hybrid hit@5 >= baseline + 10 points and >= 0.90.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import REPO, canonical_grid_copy, print_table

from app.knowledge import build_knowledge_base
from app.settings import Settings
from evals.datasets import load_jsonl
from evals.metrics.retrieval import retrieval_metrics
from ingest.retrieval import Mode

K = 10


def _doc_ranking(doc_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def naive_baseline(corpus: Path, settings: Settings, questions: list[str]) -> list[list[str]]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from app.knowledge import build_embeddings

    docs = []
    for path in sorted(corpus.rglob("*.md")):
        doc_id = path.relative_to(corpus).with_suffix("").as_posix()
        docs.append(Document(page_content=path.read_text("utf-8"), metadata={"doc_id": doc_id}))
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    client = chromadb.PersistentClient(
        path=str(settings.data_dir / "baseline"),
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    store = Chroma(
        client=client, collection_name="baseline", embedding_function=build_embeddings(settings)
    )
    batch = client.get_max_batch_size()
    for start in range(0, len(splits), batch):
        store.add_documents(splits[start : start + batch])
    return [
        _doc_ranking([d.metadata["doc_id"] for d in store.similarity_search(q, k=K * 3)])[:K]
        for q in questions
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=REPO / "evals/datasets/grid_dev.jsonl")
    args = parser.parse_args()
    items = [i for i in load_jsonl(args.dataset) if i.gold_doc_ids]
    questions = [i.message for i in items]
    gold = [set(i.gold_doc_ids) for i in items]

    with tempfile.TemporaryDirectory() as tmp:
        corpus = canonical_grid_copy(Path(tmp) / "corpus")
        settings = Settings(data_dir=Path(tmp) / "data")
        kb = build_knowledge_base(settings, refresh_seconds=3600)
        report = kb.synchronizer().sync([corpus])
        rows: dict[str, dict[str, float]] = {}
        latency: dict[str, float] = {}
        modes: list[Mode] = ["dense", "lexical", "hybrid"]
        for mode in modes:
            started = time.perf_counter()
            ranked = [
                _doc_ranking([h.doc_id for h in kb.retriever.search(q, K * 2, mode=mode)])[:K]
                for q in questions
            ]
            latency[mode] = (time.perf_counter() - started) / len(questions) * 1000
            rows[mode] = retrieval_metrics(ranked, gold, ks=(1, 5, 10)).means
        rows["langchain_baseline"] = retrieval_metrics(
            naive_baseline(corpus, settings, questions), gold, ks=(1, 5, 10)
        ).means

    figures = {
        name: {
            "hit@1": round(m["hit@1"], 3),
            "hit@5": round(m["hit@5"], 3),
            "mrr@10": round(m["mrr@10"], 3),
        }
        for name, m in rows.items()
    }
    figures["questions"] = {"n": len(items)}
    figures["index"] = {"docs": report.docs_seen, "chunks": report.chunks_written}
    figures["ms_per_query"] = {k: round(v, 1) for k, v in latency.items()}
    gain = rows["hybrid"]["hit@5"] - rows["langchain_baseline"]["hit@5"]
    figures["hybrid_minus_baseline_hit@5"] = {"points": round(gain * 100, 1)}
    print_table("bench/retrieval.py", [(k, json.dumps(v)) for k, v in figures.items()])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
