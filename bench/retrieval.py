"""Retrieval quality on corpus_grid, corpus_btcpay and corpus_stellar in one run.

Per corpus and per split (tune / holdout, see evals/datasets/README.md), the
project's hybrid retriever is scored beside a naive LangChain dense baseline
(RecursiveCharacterTextSplitter 1000/200 + langchain_chroma similarity search,
top results by similarity, the same local MiniLM embeddings) on the same files:
hit@1, hit@5 and MRR@10 over document ids.  For Grid, the Spanish and Portuguese
renderings in grid_dev_es_pt.jsonl are scored beside their English originals.

BTCPay is indexed without its FAQ pages (`docs/FAQ/**`); `--exclude NAME=GLOB`
adds exclusions.  Indexes are cached under --cache-dir, keyed by the files, the
chunk settings and bench/_corpora.py's INDEX_VERSION, so reruns only re-query.

Goals (holdout rows): hybrid hit@5 >= 0.92 on Grid, >= baseline + 10 points on
BTCPay and Stellar; es/pt hit@5 within 10 points of English.
Per-row misses are printed for tune rows only (--misses): holdout rows stay unseen.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import print_table
from _corpora import (
    CORPORA,
    Prepared,
    SeededEmbeddings,
    baseline_dir,
    harvest_vectors,
    hybrid_index,
    prepare,
    questions,
    settings_for,
    split_of,
    translations,
)

from app.settings import Settings
from evals.datasets.loader import EvalItem
from evals.score.retrieval import retrieval_metrics
from ingest.retrieval import Fusion, Mode

K = 10
METRICS = ("hit@1", "hit@5", "mrr@10")
# The retriever as it was before the three-corpus tuning: equal RRF weights, no document
# evidence, title/heading once in BM25, Spanish/Portuguese searched as written.
LEGACY_FUSION = Fusion(dense_weight=1.0, lexical_weight=1.0, doc_weight=0.0, heading_repeats=1)
Ranker = Callable[[list[str]], list[list[str]]]


def _doc_ranking(doc_ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def naive_baseline(
    prepared: Prepared, settings: Settings, path: Path, seeds: dict[str, list[float]] | None
) -> Ranker:
    """Chunks of 1000 characters, dense similarity only: what a first RAG demo does."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from app.knowledge import build_embeddings

    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    embeddings: Embeddings = build_embeddings(settings)
    if seeds:
        embeddings = SeededEmbeddings(embeddings, seeds)
    store = Chroma(client=client, collection_name="baseline", embedding_function=embeddings)
    done = path / "complete"
    if not done.is_file():
        docs = [
            Document(page_content=f.read_text("utf-8"), metadata={"doc_id": prepared.doc_id(f)})
            for f in prepared.files
        ]
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        splits = splitter.split_documents(docs)
        batch = client.get_max_batch_size()
        for start in range(0, len(splits), batch):
            store.add_documents(splits[start : start + batch])
        done.write_text(str(len(splits)))

    def rank(texts: list[str]) -> list[list[str]]:
        return [
            _doc_ranking([d.metadata["doc_id"] for d in store.similarity_search(q, k=K * 3)])[:K]
            for q in texts
        ]

    return rank


def _score(
    ranked: list[list[str]], items: list[EvalItem], ids: list[str] | None = None
) -> dict[str, float]:
    summary = retrieval_metrics(
        ranked, [set(i.gold_doc_ids) for i in items], query_ids=ids, ks=(1, 5, 10)
    )
    return {m: round(summary.means.get(m, 0.0), 3) for m in METRICS} | {"n": len(items)}


def _by_split(ranked: list[list[str]], items: list[EvalItem]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for split in ("tune", "holdout"):
        picked = [(r, i) for r, i in zip(ranked, items, strict=True) if split_of(i) == split]
        if picked:
            out[split] = _score([r for r, _ in picked], [i for _, i in picked])
    out["all"] = _score(ranked, items)
    return out


def run_corpus(name: str, args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    corpus = CORPORA[name]
    other = dict(e.split("=", 1) for e in args.dataset).get(name)
    if other:
        # Another question set over the same index (the index cache is keyed by the files).
        corpus = dataclasses.replace(corpus, dataset=Path(other))
    items = questions(corpus, args.subset)
    extra = tuple(g for n, g in (e.split("=", 1) for e in args.exclude) if n == name)
    # A smoke run indexes each question's first gold page plus a few others.
    keep = {i.gold_doc_ids[0] for i in items} if args.subset else None
    distractors = args.subset or 0
    sample = dict(e.split("=", 1) for e in args.sample)
    if name in sample and not args.subset:
        # Every gold page of every question plus N other pages (a time-boxed measurement).
        keep, distractors = {d for i in items for d in i.gold_doc_ids}, int(sample[name])
    prepared = prepare(corpus, cache, extra_exclude=extra, keep_docs=keep, distractors=distractors)
    settings = settings_for(prepared, cache)
    built = (settings.data_dir / "synced.json").is_file() and (
        args.no_baseline or (baseline_dir(prepared, cache) / "complete").is_file()
    )
    seeds = None
    if args.seed_dir is not None and not built:
        seeds = harvest_vectors([*args.seed_dir, cache])
    kb, index = hybrid_index(prepared, settings, seeds)
    index["pages_indexed"] = len(prepared.files)
    if args.retriever == "legacy":
        kb.retriever.fusion = LEGACY_FUSION
        kb.retriever.translate = None
    texts = [i.message for i in items]

    result: dict[str, Any] = {"index": index, "systems": {}}
    rankers: dict[str, Ranker] = {}
    for mode in args.modes:
        rankers[mode] = _retriever_ranker(kb, mode)
    if not args.no_baseline:
        rankers["baseline"] = naive_baseline(
            prepared, settings, baseline_dir(prepared, cache), seeds
        )
    rankings: dict[str, list[list[str]]] = {}
    for system, ranker in rankers.items():
        started = time.perf_counter()
        rankings[system] = ranker(texts)
        result["systems"][system] = _by_split(rankings[system], items)
        result["systems"][system]["ms_per_query"] = {
            "ms": round((time.perf_counter() - started) / max(len(texts), 1) * 1000, 1)
        }

    translated = translations(corpus, {i.id for i in items})
    if translated and "hybrid" in rankers:
        result["languages"] = _languages(rankers["hybrid"], items, translated)
    if args.misses and "hybrid" in rankings:
        _print_misses(name, items, rankings["hybrid"])
        if translated:
            _print_misses(
                f"{name} es/pt", translated, rankers["hybrid"]([t.message for t in translated])
            )
    return result


def _retriever_ranker(kb: Any, mode: Mode) -> Ranker:
    def rank(texts: list[str]) -> list[list[str]]:
        return [
            _doc_ranking([h.doc_id for h in kb.retriever.search(q, K * 2, mode=mode)])[:K]
            for q in texts
        ]

    return rank


def _languages(
    ranker: Ranker, items: list[EvalItem], translated: list[EvalItem]
) -> dict[str, dict[str, float]]:
    """hit@5 of each language beside the English originals of the same rows."""
    by_id = {i.id: i for i in items}
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({t.language or "" for t in translated}):
        rows = [t for t in translated if t.language == lang]
        originals = [by_id[str((t.model_extra or {})["source_id"])] for t in rows]
        english = ranker([o.message for o in originals])
        translated_ranks = ranker([t.message for t in rows])
        for split in ("tune", "holdout", "all"):
            keep = [n for n, o in enumerate(originals) if split in ("all", split_of(o))]
            suffix = "" if split == "all" else f" {split}"
            out[f"en ({lang} rows){suffix}"] = _score(
                [english[n] for n in keep], [originals[n] for n in keep]
            )
            out[f"{lang}{suffix}"] = _score(
                [translated_ranks[n] for n in keep], [rows[n] for n in keep]
            )
    return out


def _print_misses(name: str, items: list[EvalItem], ranked: list[list[str]]) -> None:
    print(f"\n== hybrid misses at 5, {name}, tune rows only")
    for item, docs in zip(items, ranked, strict=True):
        if split_of(item) != "tune" or set(docs[:5]) & set(item.gold_doc_ids):
            continue
        print(f"  {item.id}: {item.message[:110]!r}")
        print(f"     gold {item.gold_doc_ids[:3]}\n     got  {docs[:5]}")


def _table(results: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, result in results.items():
        rows.append((name, f"index {json.dumps(result['index'])}"))
        for system, splits in result["systems"].items():
            for split, figures in splits.items():
                rows.append((f"  {system:<9} {split:<8}", json.dumps(figures)))
        for lang, figures in result.get("languages", {}).items():
            rows.append((f"  hybrid    {lang:<8}", json.dumps(figures)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", default="grid,btcpay,stellar")
    parser.add_argument("--modes", default="hybrid", help="comma list of hybrid, dense, lexical")
    parser.add_argument("--exclude", action="append", default=[], metavar="NAME=GLOB")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "triage-bench-retrieval",
        help="where index builds are kept between runs",
    )
    parser.add_argument(
        "--retriever",
        choices=("default", "legacy"),
        default="default",
        help="legacy: the fusion settings before the three-corpus tuning, no es/pt gloss",
    )
    parser.add_argument("--subset", type=int, help="smoke run: N questions per split")
    parser.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="NAME=N",
        help="index only the gold pages of corpus NAME's questions plus N other pages",
    )
    parser.add_argument(
        "--seed-dir",
        action="append",
        type=Path,
        help="reuse MiniLM vectors of identical texts from Chroma stores under this dir "
        "(and the cache); only unseen texts are embedded",
    )
    parser.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="score corpus NAME on this question file instead of its default one "
        "(e.g. btcpay=evals/datasets/btcpay_dev_b.jsonl)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--misses", action="store_true", help="print tune-row misses")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    names = [n.strip() for n in args.corpora.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORPORA]
    if unknown:
        parser.error(f"unknown corpora {unknown}; known: {sorted(CORPORA)}")
    args.cache_dir.mkdir(parents=True, exist_ok=True)

    results = {name: run_corpus(name, args, args.cache_dir) for name in names}
    print_table("bench/retrieval.py", _table(results))
    print(json.dumps(results))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
