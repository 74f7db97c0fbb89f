"""Per-request context: who is asking, short-lived sessions, and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from strawberry.types import Info as StrawberryInfo

from api.loaders import Loaders
from domain.identity.fence import Fence, fence_for, fenced_sessionmaker
from domain.identity.services import Principal
from domain.shared.db import SessionMaker
from erpgraph.settings import Settings


@dataclass
class Context:
    sessionmaker: SessionMaker
    settings: Settings
    principal: Principal | None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    reads: Any = None  # the compiled reads' api.compiled.extension.ReadPath (None: switched off)

    @property
    def fence(self) -> Fence:
        """What the principal may see (api.fence): all, or one partner's customers."""
        return fence_for(self.principal)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(fenced_sessionmaker(self.sessionmaker, self.fence))

    @property
    def viewer(self) -> Principal:
        if self.principal is None:  # HTTP requires a token before execution; ws at init
            raise PermissionError("not authenticated")
        return self.principal


Info = StrawberryInfo[Context, None]
