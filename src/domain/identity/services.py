"""Bearer tokens: created once, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity.models import ApiToken
from domain.identity.scopes import ROLES, Scope, scopes_for
from domain.shared.errors import Problems
from domain.shared.events import record_event
from domain.shared.numbers import check_text

TOKEN_PREFIX = "eg_"


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    scopes: frozenset[Scope]

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, name: str, role: str) -> str:
    problems = Problems()
    check_text(problems, name, "name", required=True, max_length=120)
    if role not in ROLES:
        problems.invalid(f"role must be one of {', '.join(ROLES)}", "role")
    problems.raise_if_any()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip(), role=role, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    await record_event(session, "token.created", "ApiToken", row.id, {"name": row.name, "role": role})
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(ApiToken.name, ApiToken.role).where(
                ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
            )
        )
    ).first()
    if row is None:
        return None
    return Principal(name=row.name, role=row.role, scopes=scopes_for(row.role))
