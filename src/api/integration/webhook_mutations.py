from __future__ import annotations

import strawberry

from api.integration.webhook_types import CreateWebhookPayload, DeleteWebhookPayload, Webhook, WebhookInput
from api.permissions import Command, command
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.integration import webhooks_services as webhooks


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description=(
        "Registers an endpoint for signed events (Standard Webhooks; docs/webhooks.md). The answer "
        "holds its signing secret, shown this once."
    ))
    @command(Scope.ADMIN)
    async def create_webhook(self, cmd: Command, input: WebhookInput) -> CreateWebhookPayload:
        created = await webhooks.create(cmd.session, input.url, input.events, input.description, cmd.actor)
        return CreateWebhookPayload(webhook=Webhook.from_row(created), secret=created.secret)

    @strawberry.mutation(description=(
        "Deletes an endpoint with its deliveries and their attempts; nothing more is sent to it."
    ))
    @command(Scope.ADMIN)
    async def delete_webhook(self, cmd: Command, id: strawberry.ID) -> DeleteWebhookPayload:
        deleted = await webhooks.delete_endpoint(cmd.session, decode_id(id, "Webhook", "id"))
        return DeleteWebhookPayload(webhook=Webhook.from_row(deleted))
