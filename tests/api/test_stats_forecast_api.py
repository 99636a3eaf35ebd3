"""GET /v1/stats/forecast on both databases: who may read it, bad horizons, the forecast
beside a history with a weekly season, and a history too short to forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.api.conftest import Api, MakeApi
from tests.app.operations.volume_history import add_volume, weekly_pattern


@pytest.fixture(params=["sqlite", "postgresql"])
def forecast_api(make_api: MakeApi, request: pytest.FixtureRequest) -> Api:
    overrides = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("pg_databases").create()
    return make_api(**overrides)


def _today() -> date:
    return datetime.now(UTC).date()


def test_forecast_beside_a_weekly_history(forecast_api: Api) -> None:
    first = _today() - timedelta(days=35)
    with forecast_api.sessions.begin() as session:
        add_volume(session, first, weekly_pattern(first, 35))
    response = forecast_api.client.get(
        "/v1/stats/forecast", params={"days": 10}, headers=forecast_api.auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["horizon"], body["level"]) == ("ok", 10, 0.8)
    assert (body["start"], body["history_start"]) == (_today().isoformat(), first.isoformat())
    assert body["history_days"] == 35
    days = body["days"]
    assert [d["day"] for d in days] == [
        (_today() + timedelta(days=i)).isoformat() for i in range(10)
    ]
    assert all(d["lower"] <= d["upper"] for d in days)
    weekend = [d["point"] for d in days if date.fromisoformat(d["day"]).weekday() >= 5]
    weekday = [d["point"] for d in days if date.fromisoformat(d["day"]).weekday() < 5]
    assert min(weekday) > max(weekend)
    # The same history answers the same forecast (from the cache).
    again = forecast_api.client.get(
        "/v1/stats/forecast", params={"days": 10}, headers=forecast_api.auth("admin")
    )
    assert again.json() == body


def test_short_history_is_reported(forecast_api: Api) -> None:
    first = _today() - timedelta(days=5)
    with forecast_api.sessions.begin() as session:
        add_volume(session, first, [4] * 6)
    body = forecast_api.client.get("/v1/stats/forecast", headers=forecast_api.auth()).json()
    assert (body["status"], body["history_days"], body["days"]) == ("short_history", 5, [])
    assert body["min_history_days"] > body["history_days"]
    assert body["horizon"] == 14


def test_roles_and_bad_horizons(forecast_api: Api) -> None:
    client = forecast_api.client
    assert client.get("/v1/stats/forecast").status_code == 401
    forbidden = client.get("/v1/stats/forecast", headers=forecast_api.auth("integration"))
    assert forbidden.status_code == 403
    empty = client.get("/v1/stats/forecast", headers=forecast_api.auth()).json()
    assert (empty["status"], empty["days"]) == ("no_history", [])
    for days in ("6", "15", "x"):
        bad = client.get("/v1/stats/forecast", params={"days": days}, headers=forecast_api.auth())
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in bad.json()["errors"]] == [["query", "days"]]
