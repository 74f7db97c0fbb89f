"""Configuration, read from environment variables (see README: Configuration)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # `erpgraph serve` and `erpgraph worker` run in production unless ERPGRAPH_ENV says otherwise
    # (erpgraph.cli); everything else (`erpgraph dev`, tests, tools) defaults to development.
    env: Literal["development", "production", "test"] = Field(
        default="development", alias="ERPGRAPH_ENV"
    )
    data_dir: Path = Field(default=Path(".erpgraph"), alias="ERPGRAPH_DATA_DIR")
    db_pool_size: int = Field(default=10, alias="ERPGRAPH_DB_POOL_SIZE")
    credit_max_days_overdue: int = Field(default=30, alias="CREDIT_MAX_DAYS_OVERDUE")
    # The arq queue the API fills and workers take from (several deployments can share a Redis).
    queue_name: str = Field(default="arq:queue", min_length=1, alias="ERPGRAPH_QUEUE_NAME")
    # A RUNNING job whose worker has not reported for this long is taken as lost (FAILED);
    # workers report at least every 5 s.
    job_stale_after_s: float = Field(default=60.0, gt=0, alias="ERPGRAPH_JOB_STALE_AFTER_S")

    # GraphQL limits
    max_depth: int = Field(default=12, alias="ERPGRAPH_MAX_DEPTH")
    max_aliases: int = Field(default=30, alias="ERPGRAPH_MAX_ALIASES")
    max_tokens: int = Field(default=5000, alias="ERPGRAPH_MAX_TOKENS")
    max_cost: int = Field(default=50_000, alias="ERPGRAPH_MAX_COST")

    # Resource limits (docs/security.md: Limits)
    # Lines a document (quote, order, purchase order, BOM, opportunity, shipment) may have;
    # the query cost counts every plain list with this bound.
    max_lines: int = Field(default=500, ge=1, alias="ERPGRAPH_MAX_LINES")
    # Characters of a search text and entries of a list argument (ids, statuses).
    max_search_length: int = Field(default=200, ge=1, alias="ERPGRAPH_MAX_SEARCH_LENGTH")
    max_list_entries: int = Field(default=100, ge=1, alias="ERPGRAPH_MAX_LIST_ENTRIES")
    # PostgreSQL statement_timeout of the API's connections (0: none); workers use their own,
    # by default the longest job's timeout (MRP, an hour): no statement outlives its job.
    statement_timeout_ms: int = Field(default=5000, ge=0, alias="ERPGRAPH_STATEMENT_TIMEOUT_MS")
    worker_statement_timeout_ms: int = Field(
        default=3_600_000, ge=0, alias="ERPGRAPH_WORKER_STATEMENT_TIMEOUT_MS"
    )
    # Text searches (they scan) running at once per API process; more wait without a connection.
    max_concurrent_searches: int = Field(default=2, ge=1, alias="ERPGRAPH_MAX_CONCURRENT_SEARCHES")
    # An HTTP request body above this is refused with 413 before it is read whole.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, alias="ERPGRAPH_MAX_BODY_BYTES")
    # Websockets: time to send connection_init, and connections per process still waiting for it.
    ws_init_timeout_s: float = Field(default=10.0, gt=0, alias="ERPGRAPH_WS_INIT_TIMEOUT_S")
    ws_max_pending_inits: int = Field(default=100, ge=1, alias="ERPGRAPH_WS_MAX_PENDING_INITS")
    # Idempotency-Key (docs/idempotency.md): a request still RUNNING after this long is taken
    # as lost with its process; a retry then runs it again, unless its effect committed (409).
    idempotency_lease_s: float = Field(default=300.0, gt=0, alias="ERPGRAPH_IDEMPOTENCY_LEASE_S")
    # Read queries whose every field compiles are answered by one SQL statement that writes
    # the JSON (api.compiled; docs/architecture.md); 0 sends every query to the resolvers.
    compiled_reads: bool = Field(default=True, alias="ERPGRAPH_COMPILED_READS")
    # Their connections per process (a pool of their own, opened as needed): a compiled read is
    # one short round trip, so a few serve many requests in flight
    read_pool_size: int = Field(default=5, ge=1, alias="ERPGRAPH_READ_POOL_SIZE")
    # `erpgraph serve` logs a line per HTTP request (uvicorn's access log); 0 leaves it out
    access_log: bool = Field(default=True, alias="ERPGRAPH_ACCESS_LOG")
    # ERP writeback to Tryton (docs/erp-writeback.md): off while the URL is unset.
    tryton_url: str | None = Field(default=None, alias="ERPGRAPH_TRYTON_URL")
    tryton_database: str | None = Field(default=None, alias="ERPGRAPH_TRYTON_DATABASE")
    tryton_user: str = Field(default="admin", alias="ERPGRAPH_TRYTON_USER")
    tryton_password: SecretStr | None = Field(default=None, alias="ERPGRAPH_TRYTON_PASSWORD")
    tryton_timeout_s: float = Field(default=30.0, gt=0, alias="ERPGRAPH_TRYTON_TIMEOUT_S")
    # A record whose writeback failed this many times in a row is FAILED (retrySync re-queues it);
    # the wait between attempts doubles from sync_backoff_s up to sync_backoff_max_s.
    sync_max_attempts: int = Field(default=8, ge=1, alias="ERPGRAPH_SYNC_MAX_ATTEMPTS")
    sync_backoff_s: float = Field(default=2.0, gt=0, alias="ERPGRAPH_SYNC_BACKOFF_S")
    sync_backoff_max_s: float = Field(default=600.0, gt=0, alias="ERPGRAPH_SYNC_BACKOFF_MAX_S")
    # The sweeper re-queues a PENDING record this long past due (its job lost with Redis, or its
    # worker killed); longer than a busy queue's wait, or it queues duplicates (harmless, wasted).
    sync_sweep_grace_s: float = Field(default=300.0, ge=0, alias="ERPGRAPH_SYNC_SWEEP_GRACE_S")
    # Outbound webhooks (docs/webhooks.md): a delivery answered 5xx or 429, or not answered within
    # webhook_timeout_s, is tried again after webhook_backoff_s, doubling up to webhook_backoff_max_s,
    # and is GIVEN_UP after webhook_max_attempts attempts.
    webhook_max_attempts: int = Field(default=8, ge=1, alias="ERPGRAPH_WEBHOOK_MAX_ATTEMPTS")
    webhook_backoff_s: float = Field(default=10.0, gt=0, alias="ERPGRAPH_WEBHOOK_BACKOFF_S")
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0, alias="ERPGRAPH_WEBHOOK_BACKOFF_MAX_S")
    # at most 30 s: a delivery job must end well inside its own timeout (workers.webhooks)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=30, alias="ERPGRAPH_WEBHOOK_TIMEOUT_S")

    @field_validator("env", mode="before")
    @classmethod
    def _short_names(cls, value: object) -> object:
        """``dev`` and ``prod`` as well as the full names, in any case."""
        if isinstance(value, str):
            value = value.strip().lower()
            return {"dev": "development", "prod": "production"}.get(value, value)
        return value

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def writeback_system(self) -> str | None:
        """The ``ExternalRef.system`` the ERP writeback fills; None when the writeback is off."""
        return "tryton" if self.tryton_url else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
