from __future__ import annotations

import strawberry
from sqlalchemy import or_, select

from api.context import Info
from api.crm.types import Customer
from api.permissions import requires
from api.relay import Connection, lookup, paginate
from api.search import contains
from domain.crm.models import Customer as CustomerRow
from domain.identity.scopes import Scope


@strawberry.type
class CrmQuery:
    @strawberry.field(permission_classes=[requires(Scope.CRM_READ)])
    async def customer(
        self, info: Info, id: strawberry.ID | None = None, code: str | None = None
    ) -> Customer | None:
        row = await lookup(
            info, CustomerRow, "Customer", info.context.loaders.crm.customer,
            id=id, key_column=CustomerRow.code, key=code,
        )
        return None if row is None else Customer.from_row(row)

    @strawberry.field(permission_classes=[requires(Scope.CRM_READ)])
    async def customers(
        self, info: Info, first: int | None = None, after: str | None = None,
        search: str | None = None,
    ) -> Connection[Customer]:
        stmt = select(CustomerRow.__table__)
        if search:
            pattern = contains(search)
            stmt = stmt.where(or_(
                CustomerRow.code.ilike(pattern), CustomerRow.name.ilike(pattern),
                CustomerRow.email.ilike(pattern),
            ))
        return await paginate(info, stmt, CustomerRow.id, Customer.from_row, first=first, after=after,
                              search=bool(search))
