"""Posting GraphQL with an Idempotency-Key, and writing key rows by hand (a crashed process)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from domain.crm.models import Customer
from domain.identity.services import hash_token
from domain.integration.idempotency import IdempotencyKey

CREATE_CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { id code } errors { code field message } }
}"""


def customer_body(code: str, name: str = "Acme Corp") -> bytes:
    """A createCustomer request body, byte for byte the same for the same arguments."""
    return json.dumps({"query": CREATE_CUSTOMER, "variables": {"input": {"code": code, "name": name}}}).encode()


async def post(http: httpx.AsyncClient, token: str, body: bytes, key: str | bytes | None,
               **headers: str) -> httpx.Response:
    sent: list[tuple[str, str | bytes]] = [("Authorization", f"Bearer {token}"),
                                           ("Content-Type", "application/json")]
    if key is not None:
        sent.append(("Idempotency-Key", key if isinstance(key, bytes) else f'"{key}"'))
    sent.extend((name.replace("_", "-"), value) for name, value in headers.items())
    return await http.post("/graphql", content=body, headers=sent)


async def customers(sessionmaker: Any, code: str) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(
            select(func.count()).select_from(Customer).where(Customer.code == code)
        )).scalar_one())


async def key_rows(sessionmaker: Any) -> list[IdempotencyKey]:
    async with sessionmaker() as session:
        return list((await session.execute(select(IdempotencyKey))).scalars())


async def write_key(sessionmaker: Any, token: str, key: str, request: bytes, *, state: str = "RUNNING",
                    effect_committed: bool = False, age: timedelta = timedelta(0), **answer: Any) -> None:
    """A key row for the request body ``request`` as a process left it ``age`` ago (database clock)."""
    async with sessionmaker.begin() as session:
        await session.execute(insert(IdempotencyKey).values(
            owner=hash_token(token), key=key, fingerprint=hashlib.sha256(request).hexdigest(),
            attempt=uuid.uuid4(), state=state, effect_committed=effect_committed,
            created_at=func.now() - age, **answer,
        ))
