"""Structured logs and Prometheus metrics for the API and its workers.

Logs are one JSON object per line on stderr (stdlib logging, no extra dependency), and
every line written while a request is handled carries its ``request_id``, including lines
from worker threads the request handed work to (contextvars follow ``to_thread``).  Only
identifiers, routes, statuses and timings are logged: never a message body, a draft, a
token or a header value other than the request id.

Metrics live in a per-app ``CollectorRegistry`` instead of prometheus_client's global
one, so several apps in one process (tests, benchmarks) never collide.  Each process
exposes its own counters; see the README's scale-out section for scraping several.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

request_id_var: ContextVar[str | None] = ContextVar("triage_request_id", default=None)

# LogRecord attributes that are not "extra" fields.
_RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    # uvicorn adds an ANSI-coloured copy of its message.
    | {"message", "asctime", "color_message"}
)
_HANDLER_MARK = "_triage_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            document["exc"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


_base_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamped when the record is created, i.e. in the request's context: handlers that
    # format later (queues, test capture) still see the right id.
    record = _base_record_factory(*args, **kwargs)
    request_id = request_id_var.get()
    if request_id is not None:
        record.request_id = request_id
    return record


def configure_logging(*, json_logs: bool, level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (idempotent: app factories and
    tests call this many times per process)."""
    logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Our access log replaces uvicorn's; its error log flows through the handler above.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


# Prometheus' default buckets stop at 10 s and start at 5 ms; the API's reads sit in the
# low milliseconds and ticket creation (triage + draft) can take seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class QueueDepthCollector(Collector):
    """Review queue depth, read from the database at scrape time.

    A gauge kept in process memory would be wrong as soon as a second process reviews
    tickets; one GROUP BY per scrape is cheap and always agrees with the store.
    """

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self._count = count_by_status

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "triage_review_queue_depth",
            "Tickets waiting for a person, by status (pending_review, escalated, drafting).",
            labels=["status"],
        )
        try:
            counts = self._count()
        except Exception:  # a scrape must not fail because the database blinked
            logging.getLogger(__name__).warning("queue depth unavailable", exc_info=True)
            return
        for status in ("drafting", "pending_review", "escalated"):
            family.add_metric([status], counts.get(status, 0))
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


class Metrics:
    """Every metric the service exports, registered on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "triage_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tickets_created = Counter(
            "triage_tickets_created",
            "Tickets created, by category, priority and channel.",
            ["category", "priority", "channel"],
            registry=r,
        )
        self.drafts_decided = Counter(
            "triage_drafts_decided",
            "Review outcomes: approved (as drafted), edited, rejected, escalated, auto_approved.",
            ["outcome"],
            registry=r,
        )
        self.drafts_created = Counter(
            "triage_drafts_created",
            "Drafts written, by drafter and whether they need a human.",
            ["drafter", "needs_human"],
            registry=r,
        )
        self.drafting_seconds = Histogram(
            "triage_pipeline_duration_seconds",
            "Time to triage and draft one message, by where it ran.",
            ["where"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox = Counter(
            "triage_outbox_messages",
            "Outbox delivery results: sent, retrying, failed, lost (claim taken over).",
            ["outcome"],
            registry=r,
        )
        self.ask = Counter(
            "triage_ask_requests",
            "Public /v1/ask outcomes: answered, handed_off, rate_limited; the askers' verdicts "
            "on answers: helpful, not_helpful.",
            ["outcome"],
            registry=r,
        )
        self._queue_collector: QueueDepthCollector | None = None

    def watch_queue(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        """Export the queue depth gauge, computed by ``count_by_status`` at each scrape."""
        self.unwatch_queue()
        self._queue_collector = QueueDepthCollector(count_by_status)
        self.registry.register(self._queue_collector)

    def unwatch_queue(self) -> None:
        if self._queue_collector is not None:
            self.registry.unregister(self._queue_collector)
            self._queue_collector = None


class Stopwatch:
    """``with Stopwatch() as sw: ...; sw.seconds`` — monotonic wall time of a block."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
