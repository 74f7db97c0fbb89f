"""Declared permissions: queries name a read scope, mutations a write scope."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, get_type_hints

from sqlalchemy.exc import IntegrityError
from strawberry.permission import BasePermission

from api.errors import UserError, user_errors
from domain.identity.scopes import Scope
from domain.shared.errors import DomainError, ErrorCode, Problem

log = logging.getLogger(__name__)
R = TypeVar("R")


def can(info: Any, scope: Scope) -> bool:
    principal = info.context.principal
    return principal is not None and principal.can(scope)


class _HasScope(BasePermission):
    scope: Scope
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it per instance

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return can(info, self.scope)


@functools.cache
def requires(scope: Scope) -> type[BasePermission]:
    """A permission class for ``permission_classes=[requires(Scope.X)]`` on read fields."""
    return type(
        f"Requires_{scope.name}",
        (_HasScope,),
        {"scope": scope, "message": f"FORBIDDEN: needs scope {scope.value}"},
    )


def command(scope: Scope) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Wrap a mutation resolver: check ``scope``, turn domain errors into payload errors.

    The payload type comes from the resolver's return annotation and must accept
    ``errors=[...]`` alone.
    """

    def decorate(resolver: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        payload = get_type_hints(resolver)["return"]

        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> R:
            info = kwargs["info"]
            if not can(info, scope):
                return payload(errors=[UserError(
                    code=ErrorCode.FORBIDDEN, field=None,
                    message=f"this operation needs scope {scope.value}",
                )])
            try:
                return await resolver(*args, **kwargs)
            except DomainError as error:
                return payload(errors=user_errors(error))
            except IntegrityError as error:
                # A constraint the service's own checks did not catch (a race): refuse cleanly.
                log.warning("integrity error in %s: %s", resolver.__name__, error.orig)
                return payload(errors=user_errors(DomainError([Problem(
                    ErrorCode.CONFLICT, "the change conflicts with a concurrent one; retry",
                )])))

        wrapper.__signature__ = inspect.signature(resolver)  # type: ignore[attr-defined]
        return wrapper

    return decorate
