"""Bearer tokens: created once, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity.models import ApiToken
from domain.identity.scopes import PARTNER_ROLES, ROLES, Scope, scopes_for
from domain.shared.errors import Problems
from domain.shared.events import record_event
from domain.shared.numbers import check_text

TOKEN_PREFIX = "eg_"
PARTNER_LENGTH = 40  # ExternalRef.system
PARTNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    scopes: frozenset[Scope]
    # the integration a partner token is bound to: it sees only that system's customers
    partner: str | None = None

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, name: str, role: str, partner: str | None = None) -> str:
    """A new token of ``role``; a partner role's token is bound to the integration ``partner``."""
    problems = Problems()
    check_text(problems, name, "name", required=True, max_length=120)
    if role not in ROLES:
        problems.invalid(f"role must be one of {', '.join(ROLES)}", "role")
    elif role in PARTNER_ROLES:
        check_text(problems, partner, "partner", required=True, max_length=PARTNER_LENGTH)
        if partner is not None and not PARTNER_NAME.fullmatch(partner.strip()):
            problems.invalid("must be letters, digits, '.', '_' or '-'", "partner")
    elif partner is not None:
        problems.invalid(f"only a token of role {', '.join(sorted(PARTNER_ROLES))} names a partner", "partner")
    problems.raise_if_any()
    bound = partner.strip() if partner is not None and role in PARTNER_ROLES else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip(), role=role, partner=bound, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    await record_event(
        session, "token.created", "ApiToken", row.id, {"name": row.name, "role": role, "partner": bound}
    )
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(ApiToken.name, ApiToken.role, ApiToken.partner).where(
                ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
            )
        )
    ).first()
    if row is None:
        return None
    return Principal(name=row.name, role=row.role, scopes=scopes_for(row.role), partner=row.partner)
