from __future__ import annotations

import strawberry

from domain.identity.services import Principal


@strawberry.type
class Viewer:
    name: str
    role: str
    scopes: list[str]
    partner: str | None = strawberry.field(description="The integration a partner token is bound to.")

    @classmethod
    def from_principal(cls, principal: Principal) -> Viewer:
        return cls(
            name=principal.name, role=principal.role,
            scopes=sorted(scope.value for scope in principal.scopes), partner=principal.partner,
        )
