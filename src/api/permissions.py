"""Declared permissions: queries name a read scope, mutations a write scope.

A mutation is a command: ``@command(Scope.X)`` checks the scope, opens the unit of
work and hands the resolver one :class:`Command` (session, actor, today, settings)
in place of ``info``; a domain error raised inside rolls the work back and becomes
the payload's ``errors``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from strawberry.permission import BasePermission

from api.context import Info
from api.errors import UserError, user_errors
from api.fence import check_ids
from api.idempotency import claim_of
from api.text import argument_text_error
from domain.identity.fence import fence_for
from domain.identity.scopes import Scope
from domain.integration.idempotency import mark_effect
from domain.shared.db import SINGLE_ROW, STATEMENT_TIMEOUT_MESSAGE, is_statement_timeout
from domain.shared.errors import DomainError, ErrorCode, Problem
from domain.shared.names import camel
from domain.shared.unit_of_work import UnitOfWork, unit_of_work
from erpgraph.settings import Settings

log = logging.getLogger(__name__)
R = TypeVar("R")

# the resolver's parameter that receives the Command (strawberry sees ``info`` there)
COMMAND_PARAMETER = "cmd"
UNIQUE_VIOLATION = "23505"


@dataclass(frozen=True, slots=True)
class Command(UnitOfWork):
    """The unit of work of one mutation, with the service's settings and the viewer's scopes."""

    settings: Settings
    scopes: frozenset[Scope]
    # the integration a partner's token is bound to (api.fence), None for internal tokens
    partner: str | None = None

    def require(self, scope: Scope, *field: str) -> None:
        """FORBIDDEN on ``field`` unless the viewer has ``scope`` (a field only some may set)."""
        if scope not in self.scopes:
            raise DomainError.one(
                ErrorCode.FORBIDDEN, f"setting this field needs scope {scope.value}", field or None
            )


# "Key (code)=(MAIN) already exists." - PostgreSQL's detail of a unique violation
_UNIQUE_KEY = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*)\) already exists")


def integrity_problem(error: IntegrityError) -> Problem:
    """What a constraint a concurrent command won means for this one.

    A unique key taken meanwhile (two parallel creates of one code) is ``DUPLICATE`` on
    its field, the answer the losing command would have had a moment later; anything
    else (a ``SINGLE_ROW`` index such as the one default warehouse included) is a
    ``CONFLICT`` to retry.
    """
    cause = getattr(error.orig, "__cause__", None)  # the asyncpg error under the DBAPI one
    single_row = (getattr(cause, "constraint_name", None) or "").startswith(SINGLE_ROW)
    if getattr(cause, "sqlstate", None) == UNIQUE_VIOLATION and not single_row:
        found = _UNIQUE_KEY.search(getattr(cause, "detail", None) or "")
        if found is not None:
            column = found["columns"].split(",")[-1].strip()
            return Problem(ErrorCode.DUPLICATE, f"{column} {found['values']!r} is taken", (camel(column),))
    return Problem(ErrorCode.CONFLICT, "the change conflicts with a concurrent one; retry")


def can(info: Any, scope: Scope) -> bool:
    principal = info.context.principal
    return principal is not None and principal.can(scope)


class _HasScope(BasePermission):
    scope: Scope
    scopes: tuple[Scope, ...]  # what api.authorization reads: any of them lets the viewer in
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it per instance

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return can(info, self.scope)


@functools.cache
def requires(scope: Scope) -> type[BasePermission]:
    """A permission class for ``permission_classes=[requires(Scope.X)]`` on read fields."""
    return type(
        f"Requires_{scope.name}",
        (_HasScope,),
        {"scope": scope, "scopes": (scope,), "message": f"FORBIDDEN: needs scope {scope.value}"},
    )


# What a resolver declares for the authorization matrix (api.authorization): read off the
# function strawberry calls, so the matrix compares the table with what the code does.
AUTHORIZATION_ATTRIBUTE = "__authorization__"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Enforced:
    """How a resolver restricts itself: ``needs`` (refused), ``hidden`` (null or empty), ``per-object``."""

    kind: str
    scopes: tuple[Scope, ...] = ()


def visible_with(*scopes: Scope, hidden: Any = None) -> Callable[[F], F]:
    """A field resolver that answers ``hidden`` (null; ``[]`` for a list) unless the viewer has one of ``scopes``.

    The resolver must take ``info`` (strawberry passes it by keyword).
    """

    def decorate(resolver: F) -> F:
        if inspect.iscoroutinefunction(resolver):
            @functools.wraps(resolver)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                if not any(can(kwargs["info"], scope) for scope in scopes):
                    return hidden
                return await resolver(*args, **kwargs)
        else:
            @functools.wraps(resolver)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if not any(can(kwargs["info"], scope) for scope in scopes):
                    return hidden
                return resolver(*args, **kwargs)
        setattr(wrapper, AUTHORIZATION_ATTRIBUTE, Enforced("hidden", scopes))
        return wrapper  # type: ignore[return-value]

    return decorate


def checks(*scopes: Scope, per_object: bool = False) -> Callable[[F], F]:
    """Declares the check a resolver makes itself: refused without one of ``scopes`` (a
    subscription's generator), or ``per_object``: each object it returns by that object's
    own rule (``node``, a job by its kind)."""

    def decorate(resolver: F) -> F:
        setattr(resolver, AUTHORIZATION_ATTRIBUTE, Enforced("per-object" if per_object else "needs", scopes))
        return resolver

    return decorate


def _exposed_signature(resolver: Callable[..., Any]) -> inspect.Signature:
    """The resolver's signature as strawberry must see it: ``info`` where ``cmd`` stands.

    The resolver itself gets no ``info``: what it could reach through it (the request's
    loaders, each on a connection of its own) would not see the uncommitted work, and
    would hold a second connection per command. Payload fields that need loaders
    resolve after the commit, like any other field.
    """
    signature = inspect.signature(resolver)
    if COMMAND_PARAMETER not in signature.parameters or "info" in signature.parameters:
        raise TypeError(
            f"{resolver.__qualname__}: a @command resolver takes `{COMMAND_PARAMETER}: Command`, not `info`"
        )
    info = inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)
    return signature.replace(parameters=[
        info if parameter.name == COMMAND_PARAMETER else parameter
        for parameter in signature.parameters.values()
    ])


def command(scope: Scope, *others: Scope) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Wrap a mutation resolver that takes ``cmd: Command`` as one unit of work.

    Checks ``scope`` (or any of ``others``: FORBIDDEN without running anything; a
    resolver open to several scopes checks its fields with ``cmd.require``), opens the transaction,
    refuses ids the viewer's fence hides (``api.fence.check_ids``: NOT_FOUND),
    calls the resolver with the :class:`Command`, and commits when it returns. A
    ``DomainError`` (or a constraint a concurrent change broke) rolls back and becomes
    the payload's errors. The payload type comes from the resolver's return
    annotation and must accept ``errors=[...]`` alone.
    """

    def decorate(resolver: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        payload: Callable[..., R] = get_type_hints(resolver)["return"]
        allowed = (scope, *others)
        signature = _exposed_signature(resolver)

        @functools.wraps(resolver)
        async def wrapper(*args: Any, info: Info, **kwargs: Any) -> R:
            context = info.context
            if not any(can(info, each) for each in allowed):
                return payload(errors=[UserError(
                    code=ErrorCode.FORBIDDEN, field=None,
                    message=f"this operation needs scope {' or '.join(each.value for each in allowed)}",
                )])
            if (text_error := argument_text_error(kwargs)) is not None:  # before any SQL: see api/text.py
                return payload(errors=user_errors(text_error))
            try:
                async with unit_of_work(context.sessionmaker, actor=context.viewer.name) as uow:
                    principal = context.principal
                    cmd = Command(uow.session, uow.actor, uow.today, context.settings,
                                  principal.scopes if principal else frozenset(),
                                  principal.partner if principal else None)
                    # a row the viewer's fence hides is missing, whatever the mutation
                    await check_ids(uow.session, fence_for(principal), kwargs)
                    result = await resolver(*args, **kwargs, **{COMMAND_PARAMETER: cmd})
                    if (claim := claim_of(getattr(context, "request", None))) is not None:
                        # the Idempotency-Key's effect commits with the work, or not at all
                        await mark_effect(uow.session, claim)
                    return result
            except DomainError as error:
                return payload(errors=user_errors(error))
            except StaleDataError as error:
                # A versioned row changed under a writer that did not lock it first (a bug to
                # fix where it happens, but never a 500): the client retries on fresh data.
                log.warning("stale versioned row in %s: %s", resolver.__name__, error)
                return payload(errors=user_errors(DomainError([Problem(
                    ErrorCode.CONFLICT, "the record changed meanwhile; reload it and retry",
                )])))
            except IntegrityError as error:
                # A constraint the service's own checks did not catch (a race): refuse cleanly.
                log.warning("integrity error in %s: %s", resolver.__name__, error.orig)
                return payload(errors=user_errors(DomainError([integrity_problem(error)])))
            except DBAPIError as error:
                if not is_statement_timeout(error):
                    raise
                log.warning("statement timeout in %s", resolver.__name__)
                return payload(errors=user_errors(DomainError.one(ErrorCode.TIMEOUT, STATEMENT_TIMEOUT_MESSAGE)))

        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        setattr(wrapper, AUTHORIZATION_ATTRIBUTE, Enforced("needs", allowed))
        return wrapper

    return decorate
