"""The ErpConnector for Tryton, over trytond's JSON-RPC HTTP API.

trytond serves model calls at ``POST {url}/{database}/rpc/`` (``/{database}/`` itself only
answers OPTIONS: 405). ``common.db.login`` returns a user id and a session key, sent back as
``Authorization: Session base64(login:user_id:session)``; a session ends after a while without
use (trytond's ``[session] timeout``), so a 401/403 logs in again, once. A model method is
``model.<model>.<method>`` with the user's context (``res.user.get_preferences``: company,
language) as the last positional parameter, as Tryton's own client sends it.

Errors: trytond answers a rejected call with HTTP 200 and ``error: [name, args]`` for its own
exceptions (``UserError``, which access and validation errors are, ``UserWarning``,
``ConcurrencyException``) and ``error: [text, traceback]`` for anything else; a database lock
or timeout is an HTTP 503/504, a failed login 401, too many logins 429.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import httpx

from domain.integration.erp.connector import ErpError, PartyData, ProductData, SaleData
from domain.planning.data import COUNTABLE_UOMS

# Our unit codes that Tryton spells differently (product.uom symbols, product module's data).
_TRYTON_UOM_SYMBOLS = dict.fromkeys(COUNTABLE_UOMS, "u")
# A sale in one of these states was confirmed before: it is left as it is.
_CONFIRMED_STATES = frozenset({"confirmed", "processing", "done"})
# Lookups by key see archived records too: an archived party still holds its code.
_ALL_RECORDS = {"active_test": False}


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class TrytonSettings(Protocol):
    """The part of erpgraph's settings this connector reads (``ERPGRAPH_TRYTON_*``)."""

    @property
    def tryton_url(self) -> str | None: ...
    @property
    def tryton_database(self) -> str | None: ...
    @property
    def tryton_user(self) -> str: ...
    @property
    def tryton_password(self) -> _Secret | None: ...
    @property
    def tryton_timeout_s(self) -> float: ...


class TrytonConnector:
    """Parties, products and confirmed sales in one Tryton database, upserted by key.

    Look-up-then-create is safe against retries, not against two calls for the same key at
    once (Tryton has no unique constraint on a sale's reference): the writeback runs one job
    per record at a time. Use one connector per event loop.
    """

    system = "tryton"

    def __init__(self, url: str, database: str, user: str, password: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self._user = user
        self._password = password
        self._http = httpx.AsyncClient(timeout=timeout_s)
        self._endpoint = f"{self.url}/{database}/rpc/"
        self._authorization: str | None = None
        self._context: dict[str, Any] = {}
        # ids that do not change under us: looked up once per connector
        self._uoms: dict[str, int] = {}
        self._currencies: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings: TrytonSettings) -> TrytonConnector:
        """The connector the configuration describes; a missing setting is a permanent ErpError."""
        if not settings.tryton_url or not settings.tryton_database or settings.tryton_password is None:
            raise ErpError(
                "Tryton is not configured: set ERPGRAPH_TRYTON_URL, ERPGRAPH_TRYTON_DATABASE "
                "and ERPGRAPH_TRYTON_PASSWORD",
                permanent=True,
            )
        return cls(
            settings.tryton_url,
            settings.tryton_database,
            settings.tryton_user,
            settings.tryton_password.get_secret_value(),
            settings.tryton_timeout_s,
        )

    async def upsert_party(self, party: PartyData) -> str:
        found = await self.execute(
            "party.party", "search_read", [("code", "=", party.code)], 0, 1, None, ["name"],
            context=_ALL_RECORDS,
        )
        contacts = [
            {"type": kind, "value": value}
            for kind, value in (("email", party.email), ("phone", party.phone))
            if value
        ]
        if not found:
            # A sale can only be quoted with an address (invoice and shipment): one default address.
            values: dict[str, Any] = {"code": party.code, "name": party.name, "addresses": [["create", [{}]]]}
            if contacts:
                values["contact_mechanisms"] = [["create", contacts]]
            (party_id,) = await self.execute("party.party", "create", [values])
            return str(party_id)
        party_id = found[0]["id"]
        changes: dict[str, Any] = {}
        if found[0]["name"] != party.name:
            changes["name"] = party.name
        if contacts:
            known = await self.execute(
                "party.contact_mechanism", "search_read", [("party", "=", party_id)], 0, None, None,
                ["type", "value"], context=_ALL_RECORDS,
            )
            have = {(c["type"], c["value"]) for c in known}
            missing = [c for c in contacts if (c["type"], c["value"]) not in have]
            if missing:
                changes["contact_mechanisms"] = [["create", missing]]
        if changes:
            await self.execute("party.party", "write", [party_id], changes)
        return str(party_id)

    async def upsert_product(self, product: ProductData) -> str:
        uom = await self._uom(product.uom)
        found = await self.execute(
            "product.product", "search_read", [("code", "=", product.code)], 0, 1, None,
            ["template", "template.name", "template.list_price"], context=_ALL_RECORDS,
        )
        if not found:
            (template_id,) = await self.execute("product.template", "create", [{
                "name": product.name,
                "code": product.code,
                "type": "goods",
                "salable": True,
                "list_price": product.list_price,
                "default_uom": uom,
                "sale_uom": uom,
                "products": [["create", [{}]]],
            }])
            (template,) = await self.execute("product.template", "read", [template_id], ["products"])
            return str(template["products"][0])
        template = found[0]["template."]
        changes: dict[str, Any] = {}
        if template["name"] != product.name:
            changes["name"] = product.name
        if template["list_price"] != product.list_price:
            changes["list_price"] = product.list_price
        if changes:
            await self.execute("product.template", "write", [template["id"]], changes)
        return str(found[0]["id"])

    async def ensure_sale(self, sale: SaleData) -> str:
        found = await self.execute(
            "sale.sale", "search_read", [("reference", "=", sale.reference)], 0, 1, [("id", "ASC")], ["state"]
        )
        if found:
            sale_id, state = found[0]["id"], found[0]["state"]
        else:
            sale_id, state = await self._create_sale(sale), "draft"
        if state in _CONFIRMED_STATES:
            return str(sale_id)
        if state == "draft":
            await self.execute("sale.sale", "quote", [sale_id])
        elif state != "quotation":
            raise ErpError(f"sale {sale.reference} is {state} in Tryton and cannot be confirmed", permanent=True)
        await self.execute("sale.sale", "confirm", [sale_id])
        return str(sale_id)

    async def _create_sale(self, sale: SaleData) -> int:
        company = self._context.get("company")
        if not company:
            raise ErpError(f"the Tryton user {self._user!r} has no current company", permanent=True)
        party = _record_id(sale.party_id)
        addresses = await self.execute("party.address", "search_read", [("party", "=", party)], 0, 1, None, ["id"])
        address = addresses[0]["id"] if addresses else None
        lines = [
            {
                "type": "line",
                "product": _record_id(line.product_id),
                "description": line.description,
                "quantity": float(line.quantity),  # a Float field in Tryton
                "unit": await self._uom(line.unit),
                "unit_price": line.unit_price,
            }
            for line in sale.lines
        ]
        (sale_id,) = await self.execute("sale.sale", "create", [{
            "company": company,
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "reference": sale.reference,
            "currency": await self._currency(sale.currency),
            "sale_date": sale.sale_date,
            # confirming then needs no accounting setup and creates no invoice or shipment
            "invoice_method": "manual",
            "shipment_method": "manual",
            "lines": [["create", lines]],
        }])
        return int(sale_id)

    async def _uom(self, code: str) -> int:
        symbol = _TRYTON_UOM_SYMBOLS.get(code, code)
        if symbol not in self._uoms:
            found = await self.execute("product.uom", "search", [("symbol", "=", symbol)], 0, 1, None)
            if not found:
                raise ErpError(f"Tryton has no unit of measure with the symbol {symbol!r} (unit {code!r})",
                               permanent=True)
            self._uoms[symbol] = found[0]
        return self._uoms[symbol]

    async def _currency(self, code: str) -> int:
        if code not in self._currencies:
            found = await self.execute("currency.currency", "search", [("code", "=", code)], 0, 1, None)
            if not found:
                raise ErpError(f"Tryton has no currency {code!r}", permanent=True)
            self._currencies[code] = found[0]
        return self._currencies[code]

    async def execute(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """``model.<model>.<method>(*args, user context | context)``, logged in as needed.

        Raises ErpError, permanent when Tryton refused the call itself.
        """
        for _ in range(2):  # the second time with a fresh session
            try:
                await self._login_once()
                return await self._call(f"model.{model}.{method}", *args, {**self._context, **(context or {})})
            except _SessionRefused:
                self._authorization = None
        raise ErpError(f"Tryton refused {model}.{method} to {self._user!r} in a fresh session", permanent=True)

    async def aclose(self) -> None:
        if self._authorization is not None:
            try:
                await self._call("common.db.logout")
            except (ErpError, _SessionRefused):
                pass  # the session ends with its timeout anyway
            self._authorization = None
        await self._http.aclose()

    async def _login_once(self) -> None:
        if self._authorization is not None:
            return
        try:
            user_id, session, *_ = await self._call("common.db.login", self._user, {"password": self._password})
        except _SessionRefused:
            raise ErpError(
                f"Tryton refused the login of {self._user!r} on database {self.database!r}", permanent=True
            ) from None
        token = f"{self._user}:{user_id}:{session}".encode()
        self._authorization = "Session " + base64.b64encode(token).decode("ascii")
        self._context = await self._call("model.res.user.get_preferences", True, {})

    async def _call(self, method: str, *params: Any) -> Any:
        headers = {"Content-Type": "application/json"}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        body = json.dumps({"id": 0, "method": method, "params": params}, default=_encode)
        try:
            response = await self._http.post(self._endpoint, content=body, headers=headers)
        except httpx.TimeoutException:
            raise ErpError(f"Tryton at {self.url} did not answer in time", permanent=False) from None
        except httpx.HTTPError as exc:
            raise ErpError(f"Tryton at {self.url} is unreachable: {exc or type(exc).__name__}",
                           permanent=False) from None
        status = response.status_code
        if status in (401, 403):
            raise _SessionRefused
        if status == 404:
            raise ErpError(f"Tryton at {self.url} has no database {self.database!r}", permanent=True)
        if status == 429 or status >= 500:
            raise ErpError(f"Tryton at {self.url} is unavailable (HTTP {status})", permanent=False)
        if status != 200:
            raise ErpError(f"Tryton refused {method} (HTTP {status})", permanent=True)
        try:
            answer = json.loads(response.text, object_hook=_decode)
        except ValueError:
            raise ErpError(f"Tryton at {self.url} answered {method} with something else than JSON",
                           permanent=False) from None
        if "error" in answer:
            raise _tryton_error(answer["error"])
        return answer.get("result")


def _record_id(text: str) -> int:
    if not text.isdigit():
        raise ErpError(f"{text!r} is not a Tryton record id", permanent=True)
    return int(text)


class _SessionRefused(Exception):
    """HTTP 401/403: no session, an expired one, or a refused login."""


def _tryton_error(error: list[Any]) -> ErpError:
    """ErpError from trytond's ``[name, args]`` (its own exceptions) or ``[text, traceback]``."""
    name: str = error[0]
    args: Any = error[1] if len(error) > 1 else None
    if name == "UserError":  # args: message, description, domain
        message, description = args[0], args[1]
        return ErpError(f"{message} {description}".strip(), permanent=True)
    if name == "UserWarning":  # args: name, message, description
        return ErpError(f"{args[1]} {args[2]}".strip(), permanent=True)
    if name == "LoginException":  # args: name, message, type (a login needing more than a password)
        return ErpError(str(args[1]), permanent=True)
    if name == "ConcurrencyException":
        return ErpError(f"Tryton: {args}", permanent=False)
    # Any other exception is a server fault, as an HTTP 500 would be: the traceback stays out.
    return ErpError(f"Tryton server error: {name}", permanent=False)


def _encode(value: Any) -> Any:
    """Tryton's JSON for what plain JSON lacks (trytond.protocols.jsonrpc)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    return obj
