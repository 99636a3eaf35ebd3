"""`GET /v1/search` takes the CLI's filters (`kind`, `source_prefix`), applied in the index."""

from __future__ import annotations

from tests.api.conftest import Api


def test_search_filters_by_kind_and_source_prefix(api: Api) -> None:
    question = "how do I authenticate with client id and secret"
    unfiltered = api.client.get("/v1/search", params={"q": question, "k": 10}, headers=api.auth())
    assert unfiltered.status_code == 200, unfiltered.text
    assert {h["kind"] for h in unfiltered.json()} == {"doc"}  # the corpus's Markdown pages

    by_kind = api.client.get(
        "/v1/search", params={"q": question, "kind": ["doc", "changelog"]}, headers=api.auth()
    )
    assert by_kind.status_code == 200, by_kind.text
    assert {h["kind"] for h in by_kind.json()} == {"doc"}
    other_kind = api.client.get(
        "/v1/search", params={"q": question, "kind": "api_reference"}, headers=api.auth()
    )
    assert other_kind.status_code == 200
    assert other_kind.json() == []

    prefix = "docs/guides/api-reference/"
    by_source = api.client.get(
        "/v1/search", params={"q": question, "source_prefix": prefix}, headers=api.auth()
    )
    assert by_source.status_code == 200, by_source.text
    hits = by_source.json()
    assert hits
    assert all(h["source"].startswith(prefix) for h in hits)
    assert "docs/guides/api-reference/authentication" in {h["doc_id"] for h in hits}

    nothing = api.client.get(
        "/v1/search", params={"q": question, "source_prefix": "no/such/"}, headers=api.auth()
    )
    assert nothing.status_code == 200
    assert nothing.json() == []
