"""The one place the environment is read.

Every other module receives a `Settings` instance (or values taken from it);
nothing else calls `os.environ`.  Fields use the `TRIAGE_` prefix, except the
OpenAI ones, which follow the standard OpenAI variable names so an existing
shell set-up just works.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EmbeddingProvider = Literal["auto", "local", "openai"]

LOCAL_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"


class BusinessHoursSetting(BaseModel):
    """TRIAGE_BUSINESS_HOURS: working hours per weekday in one IANA time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    days: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), min_length=1)
    start: time
    end: time

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not set(value) <= set(range(7)):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHoursSetting:
        if self.start >= self.end:
            raise ValueError("business hours must start before they end")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
    )

    # --- storage -------------------------------------------------------------
    data_dir: Path = Field(default=Path(".triage"), description="Where every local artefact lives.")
    collection: str = Field(
        default="docs", description="Chroma collection holding the knowledge base."
    )
    chroma_url: str | None = Field(
        default=None, description="Chroma server URL; unset means an in-process PersistentClient."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite under the data dir."
    )
    lexical_dir: Path | None = Field(
        default=None,
        description="Where the persisted BM25 index lives, one folder per collection, shared "
        "by every process of this machine; unset means `lexical` under the data dir.",
    )

    # --- embeddings ----------------------------------------------------------
    embedding_provider: EmbeddingProvider = "auto"
    embedding_model: str | None = Field(
        default=None, description="Model name; defaults depend on the provider."
    )
    models_dir: Path | None = Field(
        default=None, description="Where derived model files (the ONNX export) are cached."
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=2048)
    embedding_threads: int = Field(default=0, ge=0, description="0 lets the runtime pick.")
    ingest_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes that embed during ingest (`triage ingest --workers N`); "
        "the sync itself writes in one process, so its crash-safety is unchanged.",
    )
    ingest_job_chunks: int = Field(
        default=128,
        ge=1,
        le=10_000,
        description="Chunks per embedding job (`triage ingest --enqueue`): whole documents "
        "are packed up to this many, so small jobs spread well and a dead worker loses little.",
    )
    ingest_job_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="The lease on a claimed embedding job (`triage ingest-worker`), renewed "
        "every third of it while the job runs: a dead worker's job is taken over at most "
        "this long after its last renewal.",
    )
    ingest_job_max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Claims of one embedding job before it is failed for good (a job whose "
        "texts always fail, or whose worker is killed on it every time): its run finishes "
        "without it and the next plan tries its documents again.",
    )
    embedding_cache_dir: Path | None = Field(
        default=None,
        description="Folder of document vectors kept by text, one SQLite file per embedding "
        "model and shared by the host's processes: a chunk text embedded once (another "
        "collection or data dir of the same docs, a re-chunk after a chunker upgrade) is "
        "read back instead of embedded again (ingest/embedding_cache.py). Unset: off.",
    )
    block_vectors_max_rows: int = Field(
        default=100_000,
        ge=1_000,
        le=100_000_000,
        description="Vectors kept in the drafter's block-vector file per embedding model "
        "(DATA_DIR/block-vectors/), least recently used dropped beyond it; about 2.1 kB "
        "each for the local 384-dimension model, so ~210 MB by default.",
    )
    embedding_int8: bool = Field(
        default=False,
        description="Run the local MiniLM as a fused int8 ONNX graph: 2.6x the float model's "
        "chunks/s on 2 cores (bench/scale.py --embeddings) at equal Grid dev hit@5 "
        "(bench/retrieval.py); opt-in because turning it on re-embeds an existing knowledge "
        "base (collections record it as another model).",
    )

    # --- chunking ------------------------------------------------------------
    # 200 cl100k tokens keeps ~97% of chunks inside MiniLM's 256 word-piece window
    # once the title/heading prefix is added (measured by bench/ingest.py).
    chunk_tokens: int = Field(default=200, ge=32, le=8000)
    chunk_overlap_tokens: int = Field(default=30, ge=0, le=1000)
    chunk_min_tokens: int = Field(default=40, ge=0, le=1000)
    ingest_max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    ingest_exclude: list[str] = Field(
        default_factory=lambda: ["**/node_modules/**", "**/.git/**"],
        description="Glob patterns (relative to the ingested root) never ingested.",
    )
    use_manifest: bool = Field(
        default=True,
        description="When a root holds manifest.jsonl, ingest only the files it lists.",
    )
    untrusted_allowed_domains: list[str] = Field(
        default_factory=list,
        description="Domains a doc page may link to besides those derived from the corpus "
        "(its published URLs and the domains many of its pages link to).",
    )

    tiktoken_cache_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "TRIAGE_TIKTOKEN_CACHE_DIR", "TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"
        ),
        description="Local tiktoken BPE files; tiktoken would otherwise download them.",
    )

    ragas_telemetry: bool = Field(
        default=False, description="Let ragas send its usage telemetry (`triage eval`)."
    )

    # --- retrieval -----------------------------------------------------------
    search_k: int = Field(default=5, ge=1, le=100)
    rrf_k: int = Field(default=60, ge=1)

    # --- LLM -----------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "TRIAGE_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "TRIAGE_OPENAI_BASE_URL")
    )
    llm_model: str = "gpt-4o-mini"
    llm_classifier_model: str | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Retries of a transient server error (429, 5xx, refused connection); "
        "a timed-out request is never retried, so a stuck server is not asked twice.",
    )
    llm_max_tokens: int = Field(
        default=1024, ge=16, le=32_000, description="Output token cap of every draft request."
    )
    llm_classifier_max_tokens: int = Field(
        default=256, ge=16, le=4000, description="Output token cap of every classify request."
    )
    llm_override_min_offline_confidence: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="An offline prediction this confident stands when the LLM disagrees.",
    )
    llm_context_tokens: int = Field(default=3000, ge=200)
    block_remote_models: bool = Field(
        default=False,
        description="Refuse LLM clients whose base URL is not on loopback (set by the tests).",
    )

    # --- triage --------------------------------------------------------------
    taxonomy_path: Path | None = Field(default=None, description="Replace the built-in taxonomy.")
    sla_policy_path: Path | None = Field(
        default=None,
        description="Replace the built-in SLA policy (app/conversations/sla_policy.yaml).",
    )
    staffing_policy_path: Path | None = Field(
        default=None,
        description="Replace the built-in staffing assumptions "
        "(app/operations/forecasting/staffing.yaml).",
    )
    classifier_path: Path | None = Field(default=None, description="Trained offline classifier.")
    openapi_specs: list[Path] = Field(
        default_factory=list,
        description="OpenAPI specs whose declared error codes are matched in messages.",
    )
    # Calibrated by bench/calibrate_support.py on grid_dev: answerable rows' best passage
    # scored >= 0.378, off-topic probes <= 0.379 (7 of 8 below 0.31).
    answer_min_support: float = Field(
        default=0.35,
        ge=0.0,
        le=1.0,
        description="Below this best-passage similarity the draft hands off.",
    )
    # bench/reusable_answers.py on the Grid dev set (74 answers from grid_dev): at 0.78,
    # 28/33 paraphrases match their own answer, none another's; the closest of 50
    # different questions (grid_dev_b) scores 0.73, so none matches.
    reusable_answer_min_similarity: float = Field(
        default=0.78,
        ge=0.0,
        le=1.0,
        description="A reusable answer is served for a question at least this close (cosine).",
    )
    prompts_dir: Path | None = Field(default=None, description="Override the prompts folder.")

    # --- service -------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    max_message_chars: int = Field(default=20_000, ge=100)
    public_ask_rate_per_minute: int = Field(default=30, ge=1)
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_support_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack channel ids (comma-separated) whose messages become tickets and "
        "which may receive replies; none listed: Slack messages are ignored, no reply posted.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Proxy addresses (comma-separated IPs or CIDRs, uvicorn's "
        "--forwarded-allow-ips) whose X-Forwarded-For/-Proto are believed; unset: none, "
        "the client address is the TCP peer.",
    )
    auto_send_min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Legacy global auto-send: a category the auto-send policy does not list "
        "is auto-sent at or above this draft confidence, unmeasured; for a category the "
        "policy lists it is a floor under the category's threshold. Unset: only what the "
        "policy has earned is sent without an agent.",
    )
    auto_send_policy_path: Path | None = Field(
        default=None,
        description="Replace the built-in auto-send policy "
        "(app/operations/autosend/autosend_policy.yaml, "
        "which lists no category: nothing is earned, nothing sent without an agent).",
    )
    log_json: bool = True
    log_level: str = Field(default="INFO", description="Root log level (DEBUG, INFO, WARNING…).")
    run_workers: bool = Field(
        default=True,
        description="Run the drafting and outbox workers inside the API process; "
        "false for API-only processes (run `triage worker` elsewhere).",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Idle wait between worker polls of the database."
    )
    sla_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often the workers mark tickets whose SLA due time passed as breached.",
    )
    drafting_concurrency: int = Field(
        default=2, ge=1, le=64, description="Tickets drafted at once by one process (LLM mode)."
    )
    pipeline_concurrency: int = Field(
        default=2, ge=1, le=64, description="Triage pipeline runs at once per API process."
    )
    request_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Blocking route handlers (database work) run at once per API process; "
        "unset: 2 on SQLite, 8 on PostgreSQL (bench/review_api.py).",
    )
    outbox_stale_after_seconds: float = Field(
        default=60.0,
        gt=0,
        description="The lease on a claimed outbox row, renewed before each send: a row "
        "whose worker died is re-sent this long after its last renewal.  Keep it above "
        "one send's worst case (Slack: 15 s timeout, one retry).",
    )
    idempotency_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="An in-flight Idempotency-Key whose process died is taken over by a "
        "retry after this long; a request still running then can no longer commit.",
    )
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    db_pool_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL pool per process.")
    db_pool_pre_ping: bool = Field(
        default=True,
        description="Check each pooled PostgreSQL connection before use (one round trip per "
        "request); false trades that for one failed request per stale connection after a "
        "database restart.",
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a checked bearer token is trusted in-process."
    )
    # On 497 graded drafts of 18 Grid sets (evals/datasets/grid_graded*.jsonl, each set scored
    # by a model fitted on the other 17: bench/fit_answer_model.py --cross-validate) no
    # threshold reaches 90 % answers among the drafts shown (62 % at 0.5, 4 of 6 at 0.7; on
    # the untouched grid_holdout_r 3 of 9 at 0.5), so docs-only drafts are not shown to
    # developers by default.
    ask_answer_min_confidence: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="/v1/ask shows a docs-only draft directly at or above this confidence (the "
        "probability that the draft answers, fitted on graded drafts; 1.0 = never); below it "
        "the question becomes a ticket for an agent and the page lists the doc sections the "
        "draft found. An agent-approved reusable answer that the question paraphrases is "
        "shown whatever this threshold.",
    )

    ask_feedback_rate_per_minute: int = Field(
        default=30,
        ge=1,
        description='"Did this help?" answers accepted per client address per minute '
        "(POST /v1/ask/{answer_id}/feedback), apart from the questions' own budget.",
    )

    # --- knowledge gaps (`triage gaps`, GET /v1/gaps) -------------------------
    gaps_period_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="The report's period when no start is given; the trend compares it "
        "with the period of the same length before it.",
    )
    # Both chosen on the tune split of bench/gaps.py (Grid dev sets replayed through the
    # service): 0.45 put the most undocumented topics in the first five, and at 0.4 the
    # kind agreed with the labels on 96 % of topics (81 % on the holdout split).
    gaps_cluster_distance: float = Field(
        default=0.45,
        gt=0.0,
        lt=2.0,
        description="Questions closer than this (cosine distance, average linkage) share a topic.",
    )
    gaps_doc_match_min_similarity: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="A topic whose nearest doc section is at least this similar (cosine) "
        "is a retrieval miss (the docs have it); below, a docs gap.",
    )
    gaps_max_questions: int = Field(
        default=5000,
        ge=10,
        description="At most this many (the newest) questions are clustered per report.",
    )

    # --- operations metrics (docs/metrics.md) ----------------------------------
    deflection_window_hours: float = Field(
        default=72.0,
        gt=0,
        le=24 * 365,
        description="A self-service answer counts as deflected when the asker opened no "
        "ticket within this many hours after it (counted once the window has passed).",
    )
    business_hours: BusinessHoursSetting | None = Field(
        default=None,
        description='JSON, e.g. {"timezone": "America/Mexico_City", "days": [0,1,2,3,4], '
        '"start": "09:00", "end": "18:00"} (Monday = 0): times to first draft, response, '
        "approval and resolution are also reported in these hours. Unset: wall-clock only.",
    )
    llm_price_per_mtok_input: float | None = Field(
        default=None,
        ge=0,
        description="Price of a million prompt tokens, for the cost per LLM draft in the "
        "metrics (any currency); unset: cost unknown (null).",
    )
    llm_price_per_mtok_output: float | None = Field(
        default=None,
        ge=0,
        description="Price of a million completion tokens; unset: cost unknown (null).",
    )

    @field_validator("slack_support_channels", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # --- email: replies to a developer who left an address on /help ----------
    # Unset host: an emailed reply is recorded as not configured (the developer still
    # reads it on their conversation page).
    smtp_host: str | None = Field(default=None, description="SMTP server for emailed replies.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = Field(default="support@localhost", description="The replies' From address.")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (implicit TLS, 465) or none."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where developers reach this service (scheme, host, port and any path "
        "prefix): the base of the conversation link in an emailed reply.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        base = value.strip().rstrip("/")
        scheme, _, rest = base.partition("://")
        if scheme not in ("http", "https") or not rest or any(c.isspace() for c in base):
            raise ValueError("an http(s) URL such as https://support.example.com")
        return base

    # --- derived -------------------------------------------------------------
    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def resolved_embedding_provider(self) -> Literal["local", "openai"]:
        # A chat endpoint says nothing about embeddings: switching them would strand an
        # existing knowledge base, so only an explicit TRIAGE_EMBEDDING_PROVIDER=openai does.
        if self.embedding_provider == "auto":
            return "local"
        return self.embedding_provider

    @property
    def resolved_embedding_model(self) -> str:
        if self.embedding_model:
            return self.embedding_model
        if self.resolved_embedding_provider == "openai":
            return DEFAULT_OPENAI_EMBEDDING_MODEL
        return LOCAL_EMBEDDING_MODEL

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def block_vectors_dir(self) -> Path:
        """The drafter's doc-block vectors, one file per embedding model (ingest/vector_disk.py)."""
        return self.data_dir / "block-vectors"

    def lexical_path(self, collection: str) -> Path:
        return (self.lexical_dir or (self.data_dir / "lexical")) / collection

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or (self.data_dir / "models")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'triage.db').resolve()}"

    @property
    def resolved_classifier_path(self) -> Path:
        return self.classifier_path or (self.data_dir / "classifier.joblib")

    def export_tiktoken_cache(self) -> None:
        """tiktoken reads only its own variable: pointing it at the local cache is what
        keeps token counting offline."""
        if self.tiktoken_cache_dir is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(self.tiktoken_cache_dir)


def get_settings() -> Settings:
    """Build settings from the environment; called at the edges (CLI, app factory)."""
    return Settings()


def apply_ragas_telemetry(settings: Settings) -> None:
    """Pass the telemetry switch to ragas, which reads only its own variable; called where
    a command that scores with ragas starts, never at import."""
    if not settings.ragas_telemetry:
        os.environ["RAGAS_DO_NOT_TRACK"] = "true"
