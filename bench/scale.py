"""The knowledge base at 100k and 1M chunks, served by 1 and 4 processes.

Texts: the real chunks of corpus_grid, corpus_stellar and corpus_btcpay (cut as the sync
cuts them), repeated with light perturbation (each copy lives under its own source
prefix, drops one word and carries one copy-specific word) up to --chunks.
Vectors: SYNTHETIC (seeded random unit vectors) for every chunk and query, since
embedding a million texts would take a day: dense figures time Chroma's HNSW over
384-d vectors, not MiniLM, and the query is not embedded (MiniLM adds about 10 ms).
Lexical figures are real BM25 over the real (perturbed) texts.

Reported per process count: process start to first hybrid answer, memory per process
(RSS and PSS: mapped index pages shared between processes count once in PSS), hybrid
retrieval p50/p99 without filters, with a `kind` filter and with a `source_prefix`
filter (all processes querying at once), and the time from a one-page edit (written
to Chroma and to the lexical index as the sync does) to that page being found by a
lexical search in every process.  With --drafting-reads each query also screens its
hits and reads their sections, as a draft does (first answer and latencies include it).

    python bench/scale.py --chunks 100000 --processes 1,4
    python bench/scale.py --chunks 1000000 --dir D --reuse --chroma-server   # shared HNSW
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import SHARED_DATA, print_table

from ingest.corpus_chunks import corpus_chunks
from ingest.vectorstore import StoredChunk
from tests.chroma_server import chroma_server_at

DIM = 384
LEXICAL_ONLY_ID = "bench-lexical-only"
QUERIES = [
    "how do I authenticate with a client secret",
    "webhook signature verification failed",
    "QUOTE_EXPIRED when executing a quote",
    "invoice expired but the customer paid",
    "create a payment channel on lightning",
    "stellar transaction fee bump",
    "sandbox test card numbers",
    "rate limit 429 too many requests",
    "refund a payout to a bank account",
    "set up a store and connect a wallet",
    "KYC verification pending for an individual customer",
    "trustline for an asset anchor deposit",
]


def base_chunks() -> list[StoredChunk]:
    out: list[StoredChunk] = []
    for name in ("corpus_grid", "corpus_stellar", "corpus_btcpay"):
        out += list(corpus_chunks(SHARED_DATA / name))
    return out


def perturbed(base: list[StoredChunk], n: int) -> Iterator[StoredChunk]:
    for i in range(n):
        copy, chunk = divmod(i, len(base))
        original = base[chunk]
        if copy == 0:
            yield original
            continue
        rng = random.Random(i)
        words = original.text.split(" ")
        if len(words) > 3:
            del words[rng.randrange(len(words))]
        words.insert(rng.randrange(len(words) + 1), f"edition{copy}")
        meta = dict(original.metadata)
        meta["source"] = f"copy{copy:04d}/{meta['source']}"
        meta["doc_id"] = f"copy{copy:04d}/{meta['doc_id']}"
        meta["text_hash"] = hashlib.sha256(f"{copy}:{meta['text_hash']}".encode()).hexdigest()
        yield StoredChunk(f"{original.chunk_id}~{copy}", " ".join(words), meta)


def vectors(seed: int, count: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    v = rng.standard_normal((count, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class SyntheticEmbeddings:
    """Queries get a seeded random vector (hash of the text)."""

    def embed_query(self, text: str) -> list[float]:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        return [float(x) for x in vectors(seed, 1)[0]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def open_store(root: Path, url: str | None = None) -> Any:
    from ingest.vectorstore import KnowledgeBaseStore, make_chroma_client

    client = make_chroma_client(chroma_url=url, persist_path=str(root / "chroma"))
    return KnowledgeBaseStore(client, "docs", model_name="synthetic-384", dimension=DIM)


def build(root: Path, n: int, lexical_only: bool) -> dict[str, float]:
    from ingest.lexical_store import LexicalStore

    base = base_chunks()
    if lexical_only:
        chunks = list(perturbed(base, n))
        started = time.monotonic()
        LexicalStore(root / "lexical", 2).open(1, LEXICAL_ONLY_ID, lambda: chunks)
        return _built(root, len(base), {"lexical_build_s": time.monotonic() - started})
    store = open_store(root)
    started = time.monotonic()
    batch: list[StoredChunk] = []
    seed = 0

    def flush() -> None:
        nonlocal seed
        vecs = vectors(seed, len(batch))
        seed += 1
        store.upsert(
            [c.chunk_id for c in batch],
            vecs.tolist(),
            [c.text for c in batch],
            [dict(c.metadata) for c in batch],
        )
        batch.clear()

    chunks = []
    for chunk in perturbed(base, n):
        chunks.append(chunk)
        batch.append(chunk)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    chroma_seconds = time.monotonic() - started
    revision = store.bump_revision()
    started = time.monotonic()
    LexicalStore(root / "lexical", 2).open(revision, store.identity(), lambda: chunks)
    lexical_seconds = time.monotonic() - started
    return _built(
        root,
        len(base),
        {"chroma_insert_chunks_per_s": n / chroma_seconds, "lexical_build_s": lexical_seconds},
    )


def _built(root: Path, real: int, figures: dict[str, float]) -> dict[str, float]:
    size = sum(p.stat().st_size for p in (root / "lexical").rglob("*") if p.is_file())
    return {"real_chunks": real, **figures, "lexical_disk_mb": size / 1e6}


def _memory() -> dict[str, float]:
    out = {}
    for path, key in (("/proc/self/status", "VmRSS:"), ("/proc/self/smaps_rollup", "Pss:")):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                out[key.strip(":").lower()] = int(line.split()[1]) / 1024
    return out


class _LexicalOnly:
    """The lexical index alone, as the retriever holds it (no Chroma, no fusion)."""

    def __init__(self, root: Path) -> None:
        from ingest.lexical_store import LexicalStore

        self.store = LexicalStore(root / "lexical", 2)
        self.index: Any = None
        self.checked = 0.0

    def search(self, query: str, k: int, *, filters: Any = None, mode: str = "") -> list[Any]:
        if time.monotonic() - self.checked > 0.5:  # the retriever's refresh interval
            self.index = self.store.open(0, LEXICAL_ONLY_ID, lambda: [])
            self.checked = time.monotonic()
        return list(self.index.search(query, 30, filters)[:k])


class _DraftingReads:
    """A hybrid search followed by what the drafter reads for its hits: the screen (own
    domains, ingest verdicts) and each usable hit's section (--drafting-reads)."""

    def __init__(self, retriever: Any) -> None:
        from ingest.sections import SectionLookup

        self.retriever = retriever
        self.sections = SectionLookup(retriever)

    def search(self, query: str, k: int, *, filters: Any = None, mode: str = "hybrid") -> Any:
        hits = self.retriever.search(query, k, filters=filters, mode=mode)
        if mode == "hybrid":
            usable, _ = self.retriever.screen(hits)
            for hit in usable:
                self.sections.parts(hit.chunk_id, hit.doc_id, hit.heading)
        return hits


def serve(
    root: Path,
    spawned: float,
    conn: Any,
    queries: int,
    lexical_only: bool,
    drafting: bool,
    url: str | None = None,
) -> None:
    """One "API process": open the knowledge base, answer, report, then watch for the edit."""
    from ingest.lexical_store import SearchFilters
    from ingest.retrieval import HybridRetriever

    searcher: Any
    if lexical_only:
        searcher = _LexicalOnly(root)
    else:
        searcher = HybridRetriever(
            open_store(root, url),
            SyntheticEmbeddings(),  # type: ignore[arg-type]
            refresh_seconds=0.5,
            lexical_dir=root / "lexical",
            translate=None,
        )
        if drafting:
            searcher = _DraftingReads(searcher)
    searcher.search(QUERIES[0], 5)
    first = time.time() - spawned
    conn.send({"ready": first})
    conn.recv()  # every process starts measuring together
    runs = {
        "unfiltered": None,
        "kind": SearchFilters(kinds=("api_reference",)),
        "source_prefix": SearchFilters(source_prefix="copy0003/"),
    }
    timings: dict[str, list[float]] = {}
    for name, filters in runs.items():
        spent = []
        for i in range(queries):
            t = time.perf_counter()
            searcher.search(f"{QUERIES[i % len(QUERIES)]} {i}", 5, filters=filters)
            spent.append((time.perf_counter() - t) * 1000)
        timings[name] = spent
    conn.send({"timings": timings, "memory": _memory()})
    token = conn.recv()
    while not searcher.search(token, 1, mode="lexical"):
        time.sleep(0.05)
    conn.send({"seen": time.time()})


def edit_one_page(root: Path, token: str, lexical_only: bool, url: str | None = None) -> None:
    """What the sync does for one changed page: Chroma first, then the index delta."""
    from ingest.lexical_store import LexicalStore

    lexical = LexicalStore(root / "lexical", 2)
    if lexical_only:
        index = lexical.open(0, LEXICAL_ONLY_ID, lambda: [])
        chunk = index.segments[0].chunk(0)
        doc_id = str(chunk.metadata["doc_id"])
        lo, hi = index.segments[0].doc_spans()[doc_id]
        edited = [index.segments[0].chunk(p) for p in range(lo, hi)]
        edited = [StoredChunk(c.chunk_id + "-e", c.text + f" {token}", c.metadata) for c in edited]
        lexical.apply({doc_id}, edited, 2, LEXICAL_ONLY_ID, lambda: [])
        return
    store = open_store(root, url)
    got = store.collection.get(limit=1, include=["documents", "metadatas"])
    doc_id = str(got["metadatas"][0]["doc_id"])
    chunks = store.chunks_for_docs([doc_id])
    edited = [
        StoredChunk(c.chunk_id + "-e", c.text + f" {token}", dict(c.metadata)) for c in chunks
    ]
    store.delete([c.chunk_id for c in chunks])
    store.upsert(
        [c.chunk_id for c in edited],
        vectors(7, len(edited)).tolist(),
        [c.text for c in edited],
        [dict(c.metadata) for c in edited],
    )
    lexical.apply(
        {doc_id},
        store.chunks_for_docs([doc_id]),
        store.revision() + 1,
        store.identity(),
        store.all_chunks,
    )
    store.bump_revision()


def run_processes(
    root: Path,
    count: int,
    queries: int,
    lexical_only: bool,
    drafting: bool = False,
    url: str | None = None,
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for _ in range(count):
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=serve,
            args=(root, time.time(), child, queries, lexical_only, drafting, url),
        )
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    ready = [p.recv()["ready"] for p in pipes]
    for p in pipes:
        p.send("go")
    results = [p.recv() for p in pipes]
    token = f"zyzzogeton{count}x{int(time.time())}"
    edited_at = time.time()
    edit_one_page(root, token, lexical_only, url)
    written = time.time() - edited_at
    for p in pipes:
        p.send(token)
    seen = [p.recv()["seen"] - edited_at for p in pipes]
    for proc in procs:
        proc.join()
    out: dict[str, Any] = {
        "start_to_first_answer_s": max(ready),
        "rss_mb": statistics.mean(r["memory"]["vmrss"] for r in results),
        "pss_mb": statistics.mean(r["memory"]["pss"] for r in results),
        "edit_write_s": written,
        "edit_searchable_everywhere_s": max(seen),
    }
    for name in results[0]["timings"]:
        merged = sorted(t for r in results for t in r["timings"][name])
        out[f"{name}_p50_ms"] = merged[len(merged) // 2]
        out[f"{name}_p99_ms"] = merged[min(len(merged) - 1, int(len(merged) * 0.99))]
    return out


def _server_rss(root: Path) -> float:
    """Resident MB of the `chroma run` process serving `root`/chroma."""
    wanted = str(root / "chroma")
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"run" in cmdline and wanted.encode() in cmdline:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--processes", default="1,4")
    parser.add_argument("--queries", type=int, default=200, help="per process and filter")
    parser.add_argument("--dir", type=Path, help="keep the built indexes here")
    parser.add_argument(
        "--embeddings", type=Path, metavar="MODELS_DIR", help="only compare float and int8 MiniLM"
    )
    parser.add_argument("--embed-count", type=int, default=512)
    parser.add_argument("--reuse", action="store_true", help="serve the indexes already in --dir")
    parser.add_argument(
        "--lexical-only",
        action="store_true",
        help="no Chroma: the persisted BM25 index alone (for sizes whose HNSW per process "
        "would not fit in memory)",
    )
    parser.add_argument(
        "--chroma-server",
        action="store_true",
        help="the processes query one `chroma run` server over the built collection (the "
        "multi-process deployment) instead of each opening it in-process",
    )
    parser.add_argument(
        "--drafting-reads",
        action="store_true",
        help="each query also screens its hits and reads their sections, as a draft does",
    )
    args = parser.parse_args()
    if args.embeddings:
        from _scale_embeddings import embedding_rates

        print_table(
            "bench/scale.py --embeddings", embedding_rates(args.embeddings, args.embed_count)
        )
        return
    root = args.dir or Path(tempfile.mkdtemp(prefix="triage-scale-"))
    what = "lexical only" if args.lexical_only else "hybrid, vectors synthetic"
    rows = [(f"chunks (texts real+perturbed; {what})", str(args.chunks))]
    if args.reuse and (root / "lexical" / "manifest.json").is_file():
        rows.append(("indexes", f"reused from {root}"))
    else:
        built = build(root, args.chunks, args.lexical_only)
        rows += [(k, f"{v:.1f}") for k, v in built.items()]
    with ExitStack() as stack:
        url = None
        if args.chroma_server:
            url = stack.enter_context(chroma_server_at(root / "chroma"))
            rows.append(("chroma server", f"{url} (one HNSW index, shared by the processes)"))
        for count in [int(p) for p in args.processes.split(",")]:
            figures = run_processes(
                root, count, args.queries, args.lexical_only, args.drafting_reads, url
            )
            rows += [(f"{count} proc: {k}", f"{v:.2f}") for k, v in figures.items()]
            if url:
                rows.append((f"{count} proc: chroma server rss_mb", f"{_server_rss(root):.0f}"))
    flags = " --lexical-only" if args.lexical_only else ""
    flags += " --drafting-reads" if args.drafting_reads else ""
    flags += " --chroma-server" if args.chroma_server else ""
    print_table(f"bench/scale.py --chunks {args.chunks}{flags}", rows)


if __name__ == "__main__":
    main()
