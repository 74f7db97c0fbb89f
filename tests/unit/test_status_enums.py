"""Document statuses are defined once, in the domain, and served from there."""

from __future__ import annotations

from enum import StrEnum

import pytest

from api.enums import expose
from api.finance.types import InvoiceStatus
from api.planning.types import JobStatus
from api.production.types import WorkOrderStatus
from api.purchasing.types import PurchaseOrderStatus
from api.sales.types import OrderStatus, QuoteStatus
from api.schema import schema
from domain.finance import models as finance
from domain.jobs import models as jobs
from domain.production import models as production
from domain.purchasing import models as purchasing
from domain.sales import models as sales

SERVED = [
    (OrderStatus, sales.OrderStatus, sales.SalesOrder),
    (QuoteStatus, sales.QuoteStatus, sales.Quote),
    (InvoiceStatus, finance.InvoiceStatus, finance.Invoice),
    (WorkOrderStatus, production.WorkOrderStatus, production.WorkOrder),
    (PurchaseOrderStatus, purchasing.PurchaseOrderStatus, purchasing.PurchaseOrder),
    (JobStatus, jobs.JobStatus, jobs.Job),
]


@pytest.mark.parametrize(("served", "domain", "model"), SERVED, ids=[d.__name__ for _, d, _ in SERVED])
def test_the_schema_serves_the_domain_enum(served: type, domain: type[StrEnum], model: type) -> None:
    assert served is domain
    graphql = schema._schema.get_type(domain.__name__)
    assert graphql is not None and list(graphql.values) == [m.name for m in domain]  # type: ignore[attr-defined]
    checks = [c for c in model.__table__.constraints if c.name and str(c.name).endswith("status_known")]
    assert [str(c.sqltext) for c in checks] == ["status IN (" + ", ".join(f"'{m}'" for m in domain) + ")"]


def test_value_descriptions_are_kept() -> None:
    values = schema._schema.get_type("OrderStatus").values  # type: ignore[union-attr]
    assert values["CLOSED"].description == "Shipped, invoiced and fully paid."
    assert values["CREDIT_HOLD"].description is not None and values["DRAFT"].description is None


def test_a_description_of_an_unknown_value_is_refused() -> None:
    class Light(StrEnum):
        RED = "RED"

    with pytest.raises(ValueError, match="GREEN"):
        expose(Light, name="Light", descriptions={"GREEN": "go"})
