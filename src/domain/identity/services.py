"""Bearer tokens: created once, shown once, stored hashed; revoked for good, effective at once."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity.models import ApiToken
from domain.identity.scopes import PARTNER_ROLES, ROLES, Scope, scopes_for
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.numbers import check_text

TOKEN_PREFIX = "eg_"
# What is kept in clear to name a token: "eg_" and 8 characters (48 of the 256 random bits).
SHOWN_PREFIX_LENGTH = 11
TOKEN_REVOKED = "token.revoked"
# PostgreSQL NOTIFY channel the revoking transaction signals on commit (payload: the token's
# hash); every API process LISTENs on it (api.revocation), with or without a worker running.
REVOKED_CHANNEL = "erpgraph_token_revoked"
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
    row = ApiToken(name=name.strip(), role=role, partner=bound, token_hash=hash_token(token),
                   token_prefix=token[:SHOWN_PREFIX_LENGTH])
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


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    prefix: str | None
    created_at: datetime
    revoked_at: datetime | None


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.name, row.role, row.token_prefix, row.created_at, row.revoked_at)


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = (await session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id))).all()
    return [_info(row) for row in rows]


async def revoke_token(session: AsyncSession, name_or_prefix: str, actor: str | None = None) -> TokenInfo:
    """Revoke the one live token with this exact name, or whose token starts with this prefix.

    NOT_FOUND when nothing matches, INVALID_STATE when only revoked tokens do, INVALID when
    several live ones do (ambiguous: name one by its prefix). On commit every API process is
    told at once (``NOTIFY`` on :data:`REVOKED_CHANNEL`) and the ``token.revoked`` event
    reaches them through the relay as well.
    """
    wanted = name_or_prefix.strip()
    if not wanted:
        raise DomainError.one(ErrorCode.INVALID, "give a token name or prefix", ["token"])
    matches = [ApiToken.name == wanted, ApiToken.token_hash == hash_token(wanted)]
    if wanted.startswith(TOKEN_PREFIX) and len(wanted) > len(TOKEN_PREFIX):
        matches.append(
            ApiToken.token_prefix == wanted[:SHOWN_PREFIX_LENGTH]
            if len(wanted) >= SHOWN_PREFIX_LENGTH
            else ApiToken.token_prefix.startswith(wanted, autoescape=True)
        )
    rows = (
        await session.scalars(select(ApiToken).where(or_(*matches)).order_by(ApiToken.id).with_for_update())
    ).all()
    live = [row for row in rows if row.revoked_at is None]
    if not rows:
        raise DomainError.one(ErrorCode.NOT_FOUND, f"no token named or starting with {wanted!r}", ["token"])
    if not live:
        raise DomainError.one(ErrorCode.INVALID_STATE, f"token {wanted!r} is already revoked", ["token"])
    if len(live) > 1:
        found = ", ".join(f"{row.name} ({row.token_prefix or 'no prefix'})" for row in live)
        raise DomainError.one(
            ErrorCode.INVALID, f"{wanted!r} matches {len(live)} tokens: {found}; give a longer prefix", ["token"]
        )
    row = live[0]
    row.revoked_at = await session.scalar(select(func.now()))
    await session.flush()
    await record_event(session, TOKEN_REVOKED, "ApiToken", row.id,
                       {"name": row.name, "prefix": row.token_prefix, "tokenHash": row.token_hash}, actor=actor)
    await session.execute(select(func.pg_notify(REVOKED_CHANNEL, row.token_hash)))
    return _info(row)
