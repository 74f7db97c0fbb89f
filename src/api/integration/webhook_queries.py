from __future__ import annotations

from collections import defaultdict

import strawberry
from sqlalchemy import func, select

from api.context import Info
from api.integration.webhook_types import Webhook, WebhookDelivery
from api.limits import check_page_size
from api.permissions import requires
from api.relay import Connection, decode_cursor, decode_id, page_of
from domain.identity.scopes import Scope
from domain.integration.webhooks import Webhook as WebhookRow
from domain.integration.webhooks import WebhookAttempt
from domain.integration.webhooks import WebhookDelivery as DeliveryRow
from domain.shared.errors import not_found


@strawberry.type
class WebhookQuery:
    @strawberry.field(permission_classes=[requires(Scope.ADMIN)], description="Every endpoint, oldest first.")
    async def webhooks(self, info: Info) -> list[Webhook]:
        async with info.context.sessionmaker() as session:
            rows = (await session.execute(select(WebhookRow).order_by(WebhookRow.id))).scalars()
            return [Webhook.from_row(row) for row in rows]

    @strawberry.field(
        permission_classes=[requires(Scope.ADMIN)],
        description="An endpoint's deliveries, newest first, each with its attempts.",
    )
    async def webhook_deliveries(
        self, info: Info, webhook_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        size, after_pk = check_page_size(first), decode_cursor(after)
        webhook_pk = decode_id(webhook_id, "Webhook", "webhookId")
        of_webhook = select(DeliveryRow).where(DeliveryRow.webhook_id == webhook_pk)
        page = of_webhook.order_by(DeliveryRow.id.desc()).limit(size + 1)
        if after_pk is not None:
            page = page.where(DeliveryRow.id < after_pk)
        sessionmaker = info.context.sessionmaker
        async with sessionmaker() as session:
            if await session.get(WebhookRow, webhook_pk) is None:
                raise not_found("webhook", "webhookId")
            rows = list((await session.execute(page)).scalars())
            attempts: dict[int, list[WebhookAttempt]] = defaultdict(list)
            if rows:
                found = await session.execute(
                    select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_([row.id for row in rows[:size]]))
                    .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
                )
                for attempt in found.scalars():
                    attempts[attempt.delivery_id].append(attempt)

        async def count() -> int:
            async with sessionmaker() as session:
                total = await session.scalar(select(func.count()).select_from(of_webhook.subquery()))
                return int(total or 0)

        return page_of(rows, size, after_pk, lambda row: WebhookDelivery.from_row(row, attempts[row.id]), count)
