"""What erpgraph writes to an external ERP, and the interface one ERP's connector implements.

The writeback (``domain.integration.erp.sync``) reads our records, turns them into the
plain values below and hands them to an :class:`ErpConnector`. A connector knows one
ERP's API and nothing of our database. Every method is an *upsert by key*: it looks the
record up in the ERP first (party by code, product by code, sale by reference) and
creates it only when missing, so calling it again after a crash, a timeout or a second
delivery of the same job never makes a second record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PartyData:
    """A customer, as the ERP's party: ``code`` is our customer code (the key)."""

    code: str
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ProductData:
    """An item, as the ERP's product: ``code`` is our SKU (the key)."""

    code: str
    name: str
    uom: str  # our unit code: pcs, kg, m, l, ...
    list_price: Decimal


@dataclass(frozen=True)
class SaleLineData:
    product_id: str  # the ERP's id of the product, as returned by upsert_product
    product_code: str
    description: str
    quantity: Decimal
    unit: str  # our unit code, as ProductData.uom
    unit_price: Decimal  # net of the line discount, before tax


@dataclass(frozen=True)
class SaleData:
    """A confirmed sales order, as the ERP's sale: ``reference`` is our order number (the key)."""

    reference: str
    party_id: str  # the ERP's id of the party, as returned by upsert_party
    currency: str  # ISO 4217
    sale_date: date
    lines: tuple[SaleLineData, ...]


class ErpError(Exception):
    """The ERP could not take the record.

    ``permanent``: the ERP rejected the record itself (a validation error, a missing
    setting); sending it again unchanged fails the same way, so it is not retried
    until someone fixes it and asks (``retrySync``). Otherwise the failure is
    transient (connection refused, timeout, 5xx, a lock) and retried with backoff.
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ErpConnector(Protocol):
    """One ERP's API. Ids are the ERP's own, as strings."""

    #: the ``ExternalRef.system`` name of this ERP (``"tryton"``)
    system: str

    async def upsert_party(self, party: PartyData) -> str:
        """The party with this code (created, or its name and contacts brought up to date)."""
        ...

    async def upsert_product(self, product: ProductData) -> str:
        """The product with this code (created, or its name and list price brought up to date)."""
        ...

    async def ensure_sale(self, sale: SaleData) -> str:
        """The sale with this reference, confirmed: created with its lines when missing,
        then quoted and confirmed if it is not yet. An existing sale's lines are not changed."""
        ...

    async def aclose(self) -> None:
        """Release connections (log out)."""
        ...
