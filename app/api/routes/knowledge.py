"""Hybrid retrieval over the knowledge base, as `triage search`."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query

from app.api.deps import NO_NUL_PATTERN, Reviewer, ServicesDep
from app.api.routes.responses import problems
from app.api.schemas import SearchHit
from ingest.retrieval import SearchFilters

router = APIRouter(prefix="/v1", tags=["knowledge"])


@router.get(
    "/search",
    response_model=list[SearchHit],
    summary="Search the documentation (hybrid: dense + BM25, fused)",
    responses=problems(401, 403, 422),
)
async def search(
    services: ServicesDep,
    _: Reviewer,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=1000,
            pattern=NO_NUL_PATTERN,
            examples=["authenticate with client secret"],
        ),
    ],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    kind: Annotated[
        list[str] | None,
        Query(
            max_length=10,
            description="Only chunks of these kinds (repeatable), as `triage search --kind`.",
            examples=[["guide"]],
        ),
    ] = None,
    source_prefix: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=500,
            pattern=NO_NUL_PATTERN,
            description="Only chunks whose source path starts with this, as on the CLI.",
            examples=["docs/guides/"],
        ),
    ] = None,
) -> list[SearchHit]:
    retriever = services.runtime.kb.retriever
    filters = SearchFilters(kinds=tuple(kind or ()), source_prefix=source_prefix)
    # Embedding the query is CPU work: off the event loop, within the pipeline limit.
    hits = await anyio.to_thread.run_sync(
        partial(retriever.search, q, k, filters=filters), limiter=services.tickets.limiter
    )
    return [SearchHit.model_validate(hit.model_dump()) for hit in hits]
