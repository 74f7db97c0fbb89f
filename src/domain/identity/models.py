from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from domain.identity.scopes import PARTNER_ROLES, ROLES
from domain.shared.db import Base


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role_known"
        ),
        Index("ix_api_tokens_token_prefix", "token_prefix"),
        # a partner token is bound to one integration (api.fence); no other token is
        CheckConstraint(
            "(partner IS NOT NULL) = (role IN (" + ", ".join(f"'{r}'" for r in sorted(PARTNER_ROLES)) + "))",
            name="partner_bound",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    partner: Mapped[str | None] = mapped_column(String(40))
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters (``eg_`` + 8), not secret: names it in `token list/revoke`.
    # Null for tokens created before migration 0014 (only their hash was kept).
    token_prefix: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
