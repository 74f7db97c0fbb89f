from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.integration.models import ExternalRef as ExternalRefRow


@strawberry.enum
class SyncStatus(Enum):
    PENDING = "PENDING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"


@strawberry.type(
    description="Where a record also lives in an external system (an ERP), and how the writeback stands."
)
class ExternalRef:
    system: str
    external_id: str | None
    status: SyncStatus
    attempts: int
    last_error: str | None
    synced_at: datetime | None

    @classmethod
    def from_row(cls, row: ExternalRefRow) -> ExternalRef:
        return cls(
            system=row.system, external_id=row.external_id, status=SyncStatus(row.status),
            attempts=row.attempts, last_error=row.last_error, synced_at=row.synced_at,
        )
