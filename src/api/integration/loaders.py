"""DataLoaders of the integration context: where records also live in external systems."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from domain.identity.fence import fenced
from domain.integration.models import ExternalRef
from domain.shared.db import SessionMaker

# (entity type, entity id)
EntityKey = tuple[str, int]


class IntegrationLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.external_refs = self._external_refs(sm)

    @staticmethod
    def _external_refs(sm: SessionMaker) -> DataLoader[EntityKey, list[ExternalRef]]:
        async def load(keys: Sequence[EntityKey]) -> list[list[ExternalRef]]:
            groups: dict[EntityKey, list[ExternalRef]] = defaultdict(list)
            by_type: dict[str, list[int]] = defaultdict(list)
            for entity_type, entity_id in keys:
                by_type[entity_type].append(entity_id)
            async with sm() as session:
                for entity_type, ids in by_type.items():
                    stmt = select(ExternalRef).where(
                        ExternalRef.entity_type == entity_type, ExternalRef.entity_id.in_(ids)
                    ).order_by(ExternalRef.id)
                    stmt = fenced(session, stmt, ExternalRef.__table__)
                    for row in (await session.execute(stmt)).scalars():
                        groups[(row.entity_type, row.entity_id)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)
