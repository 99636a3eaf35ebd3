"""The LLM path against a real small model on loopback (opt-in; not part of CI).

Starts llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with a GGUF model, then
sends Grid dev questions through the LLM classifier and the LLM drafter exactly as
`triage serve` would (retrieval from a local MiniLM index of corpus_grid).  Per question
it prints: structured output valid or not (and why), the mode that ran, claims kept and
removed, unknown API names, hand-offs, latency and prompt tokens.  A last run makes the
server "never stop" (end-of-turn tokens banned) to show the token cap bounding it and the
server answering `/v1/models` straight after.

    python bench/llm_local.py --model /tmp/gemma/gemma-3-270m-q4_k_m.gguf \\
        --server-python /tmp/llama-venv/bin/python --limit 10

The server half runs as `bench/llm_local.py serve ...` under the llama venv's Python; it
registers `gemma-keep-system`, Gemma's turn format with the system text kept (the
built-in `gemma` format drops it, and a base model ships no chat template).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

_GEMMA_STOP = "<end_of_turn>"
# Gemma 3's <eos> and <end_of_turn>; banning both makes the model never stop by itself.
_GEMMA_END_TOKENS = {"1": -100, "106": -100}


def serve(argv: list[str]) -> None:
    """Run llama-cpp-python's server with a Gemma format that keeps the system text."""
    from llama_cpp import llama_chat_format as formats  # type: ignore[import-not-found]
    from llama_cpp.server.__main__ import main  # type: ignore[import-not-found]

    @formats.register_chat_format("gemma-keep-system")  # type: ignore[untyped-decorator]
    def _gemma_keep_system(messages: list[dict[str, Any]], **_: Any) -> Any:
        system = "\n\n".join(str(m["content"]) for m in messages if m["role"] == "system")
        prompt = ""
        for message in (m for m in messages if m["role"] != "system"):
            role = "model" if message["role"] == "assistant" else "user"
            text = str(message.get("content") or "")
            if system and role == "user":  # Gemma 3's own template does the same
                text, system = f"{system}\n\n{text}", ""
            prompt += f"<start_of_turn>{role}\n{text}{_GEMMA_STOP}\n"
        prompt += "<start_of_turn>model\n"
        return formats.ChatFormatterResponse(prompt=prompt, stop=_GEMMA_STOP)

    sys.argv = ["llama_cpp.server", *argv, "--chat_format", "gemma-keep-system"]
    main()


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the model server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("the model server did not come up")


def _models_answer_seconds(base: str) -> float | None:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base}/models", timeout=30):
            return round(time.perf_counter() - started, 2)
    except OSError:
        return None


def _row(question_id: str, decision: Any, draft: Any, seconds: float) -> dict[str, Any]:
    prov = draft.provenance
    checks = prov.checks
    llm_answered = prov.drafter == "llm" or (checks is not None and checks.rejected)
    return {
        "id": question_id,
        "classify": decision.source
        + (f" ({decision.fallback_error})" if decision.fallback_error else ""),
        "classify_mode": decision.llm_mode,
        "category": decision.category,
        "draft_valid": "yes" if llm_answered else f"no ({prov.error})",
        "draft_mode": prov.structured_mode,
        "claims_kept": (checks.sentences_checked - len(checks.unsupported_sentences))
        if checks
        else 0,
        "claims_removed": len(checks.unsupported_sentences) if checks else 0,
        "unknown_api_names": len(checks.unknown_api_names) if checks else 0,
        "handoff": draft.reason if draft.needs_human else "",
        "seconds": round(seconds, 1),
        "prompt_tokens": prov.prompt_tokens,
        "completion_tokens": prov.completion_tokens,
    }


def _start_server(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    server_cmd = [
        str(args.server_python),
        str(Path(__file__).resolve()),
        "serve",
        "--model",
        str(args.model),
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--n_ctx",
        str(args.n_ctx),
        "--n_threads",
        str(args.threads),
        "--model_alias",
        "local",
    ]
    log_path = Path(tempfile.gettempdir()) / f"llm-local-server-{args.port}.log"
    print(f"model server log: {log_path}", flush=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(server_cmd, stdout=log, stderr=subprocess.STDOUT)
    return proc


def run(args: argparse.Namespace) -> None:
    from _common import REPO, SHARED_DATA

    from app.knowledge import build_knowledge_base
    from app.services.pipelines import build_pipeline, llm_config, llm_drafter
    from app.settings import Settings
    from app.triage.draft.llm_drafter import LLMDrafter
    from app.triage.draft.protocol import DraftRequest
    from app.triage.llm.client import build_chat_model
    from app.triage.screen.secrets import redact_secrets
    from app.triage.screen.signals import extract_signals
    from evals.datasets.loader import load_jsonl

    base = args.base_url or f"http://127.0.0.1:{args.port}/v1"
    proc = None if args.base_url else _start_server(args)
    try:
        if proc is not None:
            _wait_ready(base, proc, timeout=300)
        data_dir = args.data_dir
        settings = Settings(
            data_dir=data_dir,
            openai_base_url=base,
            llm_model="local",
            embedding_provider="local",
            llm_timeout_seconds=args.timeout,
            llm_max_tokens=args.max_tokens,
            llm_context_tokens=args.context_tokens,
            llm_max_retries=0,
            openapi_specs=[SHARED_DATA / "corpus_grid/openapi.yaml"],
        )
        kb = build_knowledge_base(settings, refresh_seconds=3600)
        synced = kb.synchronizer().sync([args.corpus or SHARED_DATA / "corpus_grid"])
        print(f"index: {kb.store.count()} chunks ({synced.seconds:.0f} s to sync)", flush=True)
        pipeline = build_pipeline(settings, kb)
        drafter = pipeline.drafter
        assert isinstance(drafter, LLMDrafter)
        items = load_jsonl(REPO / "evals/datasets/grid_dev.jsonl")[: args.limit]
        rows = []
        started_all = time.monotonic()
        for item in items:
            if time.monotonic() - started_all > args.budget_seconds:
                print(f"budget of {args.budget_seconds:.0f} s spent: stopping", flush=True)
                break
            text = redact_secrets(item.message).text
            started = time.perf_counter()
            decision = pipeline.classifier.classify(text)
            hits = kb.retriever.search(text, settings.search_k)
            request = DraftRequest(
                question=text,
                hits=hits,
                triage=_triage_for(decision, pipeline),
                signals=extract_signals(text, pipeline.known_error_codes),
                language="en",
            )
            draft = drafter.draft(request)
            rows.append(_row(item.id, decision, draft, time.perf_counter() - started))
            print(json.dumps(rows[-1]), flush=True)

        # A model that never stops: its end tokens banned, only the token cap ends it.
        runaway_model = build_chat_model(llm_config(settings), max_tokens=args.runaway_max_tokens)
        runaway_model.model_kwargs = {"logit_bias": _GEMMA_END_TOKENS}
        runaway = llm_drafter(settings, chat_model=runaway_model)
        started = time.perf_counter()
        draft = runaway.draft(request)
        runaway_seconds = time.perf_counter() - started
        models_seconds = _models_answer_seconds(base)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    _report(rows, draft, runaway_seconds, models_seconds, args)


def _triage_for(decision: Any, pipeline: Any) -> Any:
    from app.triage.results import TriageResult

    category = decision.category
    return TriageResult(
        category=category,
        confidence=min(max(decision.confidence, 0.0), 1.0),
        priority=pipeline.taxonomy.categories[category].default_priority,
        team=pipeline.taxonomy.team_for(category),
        language="en",
        sentiment="neutral",
        flags=list(decision.flags),
        classifier=decision.source,
    )


def _report(
    rows: list[dict[str, Any]],
    runaway: Any,
    runaway_seconds: float,
    models_seconds: float | None,
    args: argparse.Namespace,
) -> None:
    from _common import print_table

    n = len(rows)
    summary = {
        "questions": n,
        "classification_by_llm": sum(r["classify"] == "llm" for r in rows),
        "classification_fallbacks": sum(r["classify"].startswith("offline (") for r in rows),
        "draft_structured_valid": sum(r["draft_valid"] == "yes" for r in rows),
        "draft_modes": json.dumps(_count(r["draft_mode"] for r in rows)),
        "classify_modes": json.dumps(_count(r["classify_mode"] for r in rows)),
        "claims_kept": sum(r["claims_kept"] for r in rows),
        "claims_removed": sum(r["claims_removed"] for r in rows),
        "unknown_api_names": sum(r["unknown_api_names"] for r in rows),
        "handoffs": sum(bool(r["handoff"]) for r in rows),
        "seconds_p50": statistics.median(r["seconds"] for r in rows) if rows else 0,
        "seconds_max": max((r["seconds"] for r in rows), default=0),
        "prompt_tokens_p50": statistics.median(r["prompt_tokens"] or 0 for r in rows)
        if rows
        else 0,
        "runaway_max_tokens": args.runaway_max_tokens,
        "runaway_result": f"{runaway.reason} (completion_tokens "
        f"{runaway.provenance.completion_tokens})",
        "runaway_seconds": round(runaway_seconds, 1),
        "models_endpoint_after_runaway_s": models_seconds,
    }
    print_table("bench/llm_local.py (per question above, one JSON line each)", _pairs(summary))
    print(json.dumps(summary))


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def _pairs(summary: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in summary.items()]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="A GGUF file.")
    parser.add_argument("--server-python", type=Path, default=Path("/tmp/llama-venv/bin/python"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--base-url", default=None, help="Use a server already running here.")
    parser.add_argument("--limit", type=int, default=10, help="First N grid_dev questions.")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/llm-local-kb"))
    parser.add_argument("--corpus", type=Path, default=None, help="Default: corpus_grid.")
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--context-tokens", type=int, default=1500)
    parser.add_argument("--runaway-max-tokens", type=int, default=256)
    parser.add_argument(
        "--budget-seconds", type=float, default=3600, help="Ask no new question after this."
    )
    args = parser.parse_args()
    if args.model is None and args.base_url is None:
        parser.error("give --model (a GGUF file to serve) or --base-url (a running server)")
    run(args)


if __name__ == "__main__":
    main()
