"""Sweep the hybrid retriever's fusion settings on the TUNE rows of all three corpora.

Reuses the indexes bench/retrieval.py cached (run it first with the same
--cache-dir); dense candidates are fetched once per question and shared by every
setting, so a sweep only re-fuses.  Holdout rows are never read here: choose on
these figures, then report bench/retrieval.py's holdout rows once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _corpora import CORPORA, hybrid_index, prepare, questions, settings_for, split_of

from evals.score.retrieval import retrieval_metrics
from ingest.retrieval import Fusion, HybridRetriever, LexicalIndex

K = 10


def _memoised_query(store: Any) -> None:
    """Dense results depend only on the query vector: fetch each once for the sweep."""
    original = store.query
    memo: dict[Any, Any] = {}

    def query(vector: Any, n: int, where: Any = None) -> Any:
        key = (tuple(vector), n, json.dumps(where, sort_keys=True))
        if key not in memo:
            memo[key] = original(vector, n, where)
        return memo[key]

    store.query = query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", default="grid,btcpay,stellar")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-retrieval"
    )
    parser.add_argument("--sample", action="append", default=[], metavar="NAME=N")
    parser.add_argument("--dense-weights", default="1.0")
    parser.add_argument("--doc-weights", default="0.0")
    parser.add_argument("--heading-repeats", default="1")
    parser.add_argument("--rrf-ks", default="60")
    parser.add_argument("--candidates", default="30")
    args = parser.parse_args()

    def floats(text: str) -> list[float]:
        return [float(x) for x in text.split(",")]

    grid = list(
        itertools.product(
            floats(args.dense_weights),
            floats(args.doc_weights),
            [int(x) for x in args.heading_repeats.split(",")],
            [int(x) for x in args.rrf_ks.split(",")],
            [int(x) for x in args.candidates.split(",")],
        )
    )
    corpora = []
    for name in args.corpora.split(","):
        corpus = CORPORA[name]
        every = questions(corpus)
        items = [i for i in every if split_of(i) == "tune"]
        sample = dict(e.split("=", 1) for e in args.sample)
        if name in sample:  # the same page selection bench/retrieval.py --sample indexed
            gold = {d for i in every for d in i.gold_doc_ids}
            prepared = prepare(
                corpus, args.cache_dir, keep_docs=gold, distractors=int(sample[name])
            )
        else:
            prepared = prepare(corpus, args.cache_dir)
        kb, _ = hybrid_index(prepared, settings_for(prepared, args.cache_dir))
        _memoised_query(kb.store)
        chunks = kb.store.all_chunks()
        corpora.append((name, kb, items, chunks, kb.store.revision()))

    lexical: dict[tuple[str, int], LexicalIndex] = {}
    names = " | ".join(n for n, *_ in corpora)
    print(f"dense_w doc_w heads rrf_k cands | {names} | mean")
    for dense_w, doc_w, heads, rrf_k, cands in grid:
        fusion = Fusion(
            dense_weight=dense_w,
            doc_weight=doc_w,
            heading_repeats=heads,
        )
        cells, hit5s = [], []
        for name, kb, items, chunks, revision in corpora:
            retriever = HybridRetriever(
                kb.store, kb.embeddings, rrf_k=rrf_k, candidates=cands, fusion=fusion
            )
            key = (name, heads)
            if key not in lexical:
                lexical[key] = LexicalIndex(chunks, revision, heads)
            retriever._lexical = lexical[key]
            retriever._checked_at = time.monotonic()
            retriever.refresh_seconds = 1e9
            ranked = [
                list(dict.fromkeys(h.doc_id for h in retriever.search(i.message, K * 2)))[:K]
                for i in items
            ]
            means = retrieval_metrics(ranked, [set(i.gold_doc_ids) for i in items]).means
            hit5s.append(means["hit@5"])
            cells.append(f"{means['hit@1']:.2f} {means['hit@5']:.3f} {means['mrr@10']:.3f}")
        print(
            f"{dense_w:7.2f} {doc_w:5.2f} {heads:5d} {rrf_k:5d} {cands:5d} | "
            + " | ".join(cells)
            + f" | {sum(hit5s) / len(hit5s):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
