"""GET /v1/stats: who may read it, how bad parameters are answered, and its body on the
hand-computed fixture (tests/app/operations/metric_fixture.py)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.app.operations import metric_fixture

MARCH = {"from": "2024-03-01", "to": "2024-03-31"}


@pytest.fixture
def stats_api(api: Api) -> Api:
    with api.sessions.begin() as session:
        metric_fixture.load(session)
    return api


def test_agents_and_admins_read_it_others_do_not(stats_api: Api) -> None:
    client = stats_api.client
    for role in ("agent", "admin"):
        assert client.get("/v1/stats", headers=stats_api.auth(role)).status_code == 200
    forbidden = client.get("/v1/stats", headers=stats_api.auth("integration"))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/stats").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group": "month"}, "group"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-02-30"}, "to"),
        ({"from": "2024-03-10", "to": "2024-03-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01"}, "from"),
        ({"from": "2024-03-01T10:00:00+99:00"}, "from"),
        ({"from": "x" * 41}, "from"),
    ],
)
def test_bad_parameters_are_a_problem_document_not_a_crash(
    stats_api: Api, params: dict[str, str], field: str
) -> None:
    response = stats_api.client.get("/v1/stats", params=params, headers=stats_api.auth())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert [e["loc"] for e in problem["errors"]] == [["query", field]]


def test_body_by_week(stats_api: Api) -> None:
    response = stats_api.client.get(
        "/v1/stats", params={**MARCH, "group": "week"}, headers=stats_api.auth()
    )
    assert response.status_code == 200
    body = response.json()
    # `to` as a date includes that whole day.
    assert (body["from"], body["to"], body["group"]) == (
        "2024-03-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
        "week",
    )
    assert [g["key"] for g in body["groups"]] == ["2024-03-04", "2024-03-11"]
    week = body["groups"][0]
    assert week["tickets"]["opened"] == 3
    assert week["tickets"]["sla"]["attainment"] == pytest.approx(1 / 3)
    assert week["tickets"]["timings"]["first_response"] == {
        "count": 3,
        "p50_seconds": 2400,
        "p90_seconds": 3600,
        "p95_seconds": 3600,
        "max_seconds": 3600,
    }
    assert week["drafts"]["acceptance_rate"] == pytest.approx(2 / 3)
    assert week["agents"]["handle_seconds_mean"] == 700
    totals = body["totals"]
    assert totals["key"] is None
    assert (totals["tickets"]["opened"], totals["drafts"]["total"]) == (6, 7)
    assert totals["agents"]["actions"] == 9


def test_default_range_is_the_last_30_days(stats_api: Api) -> None:
    body = stats_api.client.get("/v1/stats", headers=stats_api.auth()).json()
    assert body["totals"]["tickets"]["opened"] == 0  # the fixture is from 2024
    assert body["group"] == "day"


def test_body_has_deflection_cost_and_how_percentiles_were_ranked(stats_api: Api) -> None:
    month = stats_api.client.get(
        "/v1/stats", params={**MARCH, "group": "category"}, headers=stats_api.auth()
    ).json()
    assert month["percentiles"] == "exact"
    totals = month["totals"]
    assert totals["self_service"] == {
        "answered": 0,
        "helpful": 0,
        "didnt_help": 0,
        "handed_off": 1,  # T3 came through /v1/ask
        "asker_known": 0,
        "settled": 0,
        "deflected": 0,
        "deflection_rate": None,
    }
    assert totals["tickets"]["business_timings"] is None  # no TRIAGE_BUSINESS_HOURS
    assert (totals["drafts"]["with_cost"], totals["drafts"]["cost"]) == (0, None)
    assert all(g["self_service"] for g in month["groups"])  # answers have a category
    by_team = stats_api.client.get(
        "/v1/stats", params={**MARCH, "group": "team"}, headers=stats_api.auth()
    ).json()
    assert all(g["self_service"] is None for g in by_team["groups"])
    year = stats_api.client.get(
        "/v1/stats",
        params={"from": "2023-06-01", "to": "2024-05-31", "group": "week"},
        headers=stats_api.auth(),
    ).json()
    assert year["percentiles"] == "histogram"
    assert year["totals"]["tickets"]["timings"]["first_response"]["count"] == 4
    weeks = {g["key"]: g for g in year["groups"]}
    assert weeks["2024-03-04"]["tickets"]["timings"]["first_response"]["p50_seconds"] == 2400
