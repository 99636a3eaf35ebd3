"""The metric fixture loaded into a fresh database of each backend."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.ops.values import plain_rows
from app.store.db import session_factory
from tests.app.ops import metric_fixture


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with session_factory(engine).begin() as session:
        metric_fixture.load(session)
    return engine


def query(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return plain_rows(list(result.keys()), result.all())
