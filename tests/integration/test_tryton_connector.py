"""TrytonConnector against a real trytond (a fresh copy of the template database per test)."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.integration.erp.connector import ErpError, PartyData, ProductData, SaleData, SaleLineData
from domain.integration.erp.tryton import TrytonConnector, _tryton_error
from erpgraph.settings import Settings
from erpgraph.tryton_local import LocalTryton
from tests.e2e.processes import cli_env, command, free_port

PARTY = PartyData(code="C-1001", name="Acme GmbH", email="buy@acme.example", phone="+49 30 1234567")
PRODUCTS = (
    ProductData(code="SKU-BOLT", name="Bolt M8", uom="pcs", list_price=Decimal("0.40")),
    ProductData(code="SKU-WIRE", name="Copper wire", uom="m", list_price=Decimal("2.15")),
    ProductData(code="SKU-GREASE", name="Grease", uom="kg", list_price=Decimal("12.00")),
)
QUANTITIES = (Decimal(100), Decimal("12.5"), Decimal(2))
PRICES = (Decimal("0.36"), Decimal("2.15"), Decimal("11.40"))


async def _sale_data(connector: TrytonConnector, reference: str = "SO-000042") -> SaleData:
    party_id = await connector.upsert_party(PARTY)
    lines = []
    for product, quantity, price in zip(PRODUCTS, QUANTITIES, PRICES, strict=True):
        product_id = await connector.upsert_product(product)
        lines.append(SaleLineData(product_id=product_id, product_code=product.code, description=product.name,
                                  quantity=quantity, unit=product.uom, unit_price=price))
    return SaleData(reference=reference, party_id=party_id, currency="USD", sale_date=date(2024, 5, 17),
                    lines=tuple(lines))


async def _read(connector: TrytonConnector, model: str, domain: list[Any], fields: list[str]) -> list[Any]:
    return list(await connector.execute(model, "search_read", domain, 0, None, [("id", "ASC")], fields,
                                        context={"active_test": False}))


async def test_party_product_and_sale_are_created_with_our_values(tryton_connector: TrytonConnector) -> None:
    sale = await _sale_data(tryton_connector)

    sale_id = await tryton_connector.ensure_sale(sale)

    (party,) = await _read(tryton_connector, "party.party", [("code", "=", PARTY.code)], ["name", "addresses"])
    assert (str(party["id"]), party["name"]) == (sale.party_id, "Acme GmbH")
    assert len(party["addresses"]) == 1  # what quoting a sale needs
    contacts = await _read(tryton_connector, "party.contact_mechanism", [("party", "=", party["id"])],
                           ["type", "value"])
    assert {(c["type"], c["value"]) for c in contacts} == {("email", PARTY.email), ("phone", PARTY.phone)}
    products = await _read(tryton_connector, "product.product", [("code", "like", "SKU-%")],
                           ["code", "template.name", "template.list_price", "template.salable",
                            "template.default_uom.symbol"])
    assert [(p["code"], p["template."]["name"], p["template."]["list_price"], p["template."]["salable"],
             p["template."]["default_uom."]["symbol"]) for p in products] == [
        ("SKU-BOLT", "Bolt M8", Decimal("0.40"), True, "u"),
        ("SKU-WIRE", "Copper wire", Decimal("2.15"), True, "m"),
        ("SKU-GREASE", "Grease", Decimal("12.00"), True, "kg"),
    ]
    (tryton_sale,) = await _read(tryton_connector, "sale.sale", [("reference", "=", "SO-000042")],
                                 ["state", "party", "currency.code", "sale_date", "total_amount"])
    assert str(tryton_sale["id"]) == sale_id
    assert tryton_sale["state"] in {"confirmed", "processing"}
    assert (tryton_sale["party"], tryton_sale["currency."]["code"], tryton_sale["sale_date"]) == (
        party["id"], "USD", date(2024, 5, 17))
    assert tryton_sale["total_amount"] == Decimal("36.00") + Decimal("26.88") + Decimal("22.80")
    lines = await _read(tryton_connector, "sale.line", [("sale", "=", int(sale_id))],
                        ["product", "quantity", "unit_price", "unit.symbol", "description"])
    assert [(str(line["product"]), Decimal(str(line["quantity"])), line["unit_price"], line["unit."]["symbol"],
             line["description"]) for line in lines] == [
        (line.product_id, line.quantity, line.unit_price, symbol, line.description)
        for line, symbol in zip(sale.lines, ("u", "m", "kg"), strict=True)
    ]


async def test_calling_twice_makes_one_record_and_updates_it(tryton_connector: TrytonConnector) -> None:
    sale = await _sale_data(tryton_connector)
    first = await tryton_connector.ensure_sale(sale)

    renamed = PartyData(code=PARTY.code, name="Acme AG", email="orders@acme.example", phone=PARTY.phone)
    repriced = ProductData(code="SKU-BOLT", name="Bolt M8 zinc", uom="pcs", list_price=Decimal("0.45"))
    assert await tryton_connector.upsert_party(renamed) == sale.party_id
    assert await tryton_connector.upsert_product(repriced) == sale.lines[0].product_id
    assert await tryton_connector.ensure_sale(sale) == first

    parties = await _read(tryton_connector, "party.party", [("code", "=", PARTY.code)], ["name"])
    assert [p["name"] for p in parties] == ["Acme AG"]
    contacts = await _read(tryton_connector, "party.contact_mechanism", [("party", "=", parties[0]["id"])],
                           ["value"])
    assert sorted(c["value"] for c in contacts) == sorted([PARTY.email, PARTY.phone, "orders@acme.example"])
    products = await _read(tryton_connector, "product.product", [("code", "=", "SKU-BOLT")],
                           ["template.name", "template.list_price"])
    assert [(p["template."]["name"], p["template."]["list_price"]) for p in products] == [
        ("Bolt M8 zinc", Decimal("0.45"))]
    sales = await _read(tryton_connector, "sale.sale", [("reference", "=", sale.reference)], ["lines"])
    assert len(sales) == 1 and len(sales[0]["lines"]) == 3


@pytest.mark.parametrize("left_in", ["draft", "quotation"])
async def test_a_sale_left_unconfirmed_by_a_crash_is_confirmed(
    tryton_connector: TrytonConnector, left_in: str
) -> None:
    sale = await _sale_data(tryton_connector)
    # what an attempt that died between creating the sale and confirming it leaves behind
    (address,) = await _read(tryton_connector, "party.address", [("party", "=", int(sale.party_id))], ["id"])
    (unit,) = await tryton_connector.execute("product.uom", "search", [("symbol", "=", "u")], 0, 1, None)
    (usd,) = await tryton_connector.execute("currency.currency", "search", [("code", "=", "USD")], 0, 1, None)
    (left,) = await tryton_connector.execute("sale.sale", "create", [{
        "party": int(sale.party_id), "reference": sale.reference, "currency": usd,
        "invoice_address": address["id"], "shipment_address": address["id"],
        "invoice_method": "manual", "shipment_method": "manual",
        "lines": [["create", [{"product": int(sale.lines[0].product_id), "quantity": 1.0, "unit": unit,
                               "unit_price": Decimal("0.40")}]]],
    }])
    if left_in == "quotation":
        await tryton_connector.execute("sale.sale", "quote", [left])

    assert await tryton_connector.ensure_sale(sale) == str(left)

    sales = await _read(tryton_connector, "sale.sale", [("reference", "=", sale.reference)], ["state", "lines"])
    assert [(s["id"], s["state"] in {"confirmed", "processing"}, len(s["lines"])) for s in sales] == [
        (left, True, 1)]  # the lines it was created with are not changed


async def test_an_unknown_unit_is_a_permanent_error(tryton_connector: TrytonConnector) -> None:
    with pytest.raises(ErpError) as caught:
        await tryton_connector.upsert_product(
            ProductData(code="SKU-X", name="X", uom="bundle", list_price=Decimal(1)))

    assert caught.value.permanent
    assert str(caught.value) == "Tryton has no unit of measure with the symbol 'bundle' (unit 'bundle')"
    assert await _read(tryton_connector, "product.product", [("code", "=", "SKU-X")], ["id"]) == []


async def test_a_rejected_sale_is_a_permanent_error_with_trytons_message(
    tryton_connector: TrytonConnector,
) -> None:
    sale = await _sale_data(tryton_connector)
    missing = SaleLineData(product_id="999999", product_code="SKU-GONE", description="gone",
                           quantity=Decimal(1), unit="pcs", unit_price=Decimal(1))

    with pytest.raises(ErpError) as caught:
        await tryton_connector.ensure_sale(SaleData(
            reference=sale.reference, party_id=sale.party_id, currency="USD", sale_date=sale.sale_date,
            lines=(*sale.lines, missing)))

    assert caught.value.permanent
    assert 'The value "999999" for field "Product"' in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert await _read(tryton_connector, "sale.sale", [("reference", "=", sale.reference)], ["id"]) == []


async def test_an_unknown_currency_is_a_permanent_error(tryton_connector: TrytonConnector) -> None:
    sale = await _sale_data(tryton_connector)

    with pytest.raises(ErpError, match="Tryton has no currency 'XTS'") as caught:
        await tryton_connector.ensure_sale(SaleData(
            reference=sale.reference, party_id=sale.party_id, currency="XTS", sale_date=sale.sale_date,
            lines=sale.lines))
    assert caught.value.permanent


async def test_tryton_down_is_transient_and_up_again_works(
    tryton: LocalTryton, tryton_connector: TrytonConnector
) -> None:
    party_id = await tryton_connector.upsert_party(PARTY)
    tryton.stop()

    with pytest.raises(ErpError, match="is unreachable") as caught:
        await tryton_connector.upsert_party(PARTY)
    assert not caught.value.permanent

    tryton.start()
    assert await tryton_connector.upsert_party(PARTY) == party_id


async def test_a_lost_session_logs_in_again(tryton: LocalTryton, tryton_connector: TrytonConnector) -> None:
    party_id = await tryton_connector.upsert_party(PARTY)
    tryton.stop()
    with sqlite3.connect(tryton.database_file) as db:  # sessions purged: ours is no longer valid
        assert db.execute("DELETE FROM ir_session").rowcount >= 1
    tryton.start()

    assert await tryton_connector.upsert_party(PARTY) == party_id


async def test_a_refused_login_is_permanent(tryton: LocalTryton) -> None:
    connector = TrytonConnector(tryton.url, tryton.database, tryton.user, "not the password")
    try:
        with pytest.raises(ErpError) as caught:
            await connector.upsert_party(PARTY)
    finally:
        await connector.aclose()

    assert caught.value.permanent
    assert str(caught.value) == "Tryton refused the login of 'admin' on database 'erpgraph'"


async def test_a_missing_database_is_permanent(tryton: LocalTryton) -> None:
    connector = TrytonConnector(tryton.url, "nowhere", tryton.user, tryton.password)
    try:
        with pytest.raises(ErpError, match="has no database 'nowhere'") as caught:
            await connector.upsert_party(PARTY)
    finally:
        await connector.aclose()
    assert caught.value.permanent


async def test_from_settings(tryton: LocalTryton) -> None:
    connector = TrytonConnector.from_settings(Settings(**tryton.environment))
    try:
        assert await connector.upsert_party(PARTY)
    finally:
        await connector.aclose()

    with pytest.raises(ErpError, match="ERPGRAPH_TRYTON_URL") as caught:
        TrytonConnector.from_settings(Settings(ERPGRAPH_TRYTON_URL=None))
    assert caught.value.permanent


async def test_erpgraph_tryton_local_serves_a_database_erpgraph_can_write_to(
    tryton_template: Path, tmp_path: Path
) -> None:
    data = tmp_path / "tryton"
    shutil.copytree(tryton_template.parent, data / "template")  # built: the command only serves it
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *command("tryton-local", "--dir", str(data), "--port", str(port)),
        env=cli_env(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [(await process.stdout.readline()).decode() for _ in range(4)]
        exported = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines)
        assert exported["ERPGRAPH_TRYTON_URL"] == f"http://127.0.0.1:{port}"
        connector = TrytonConnector.from_settings(Settings(**exported))
        try:
            assert await connector.upsert_party(PARTY)
        finally:
            await connector.aclose()
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 130, errors
    assert b"Ctrl-C stops it" in errors
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):  # trytond stopped with it
            await http.post(f"http://127.0.0.1:{port}/rpc/", json={})


async def test_a_call_that_takes_too_long_is_transient(tryton: LocalTryton) -> None:
    connector = TrytonConnector(tryton.url, tryton.database, tryton.user, tryton.password, timeout_s=0.001)
    try:
        with pytest.raises(ErpError, match="did not answer in time") as caught:
            await connector.upsert_party(PARTY)
    finally:
        await connector.aclose()
    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("error", "message", "permanent"),
    [  # trytond's JSON-RPC "error" member, as trytond.protocols.jsonrpc sends it
        (["UserError", ["Party is required.", "Sale SO-1", None]], "Party is required. Sale SO-1", True),
        (["UserWarning", ["w1", "Quantity is above stock.", ""]], "Quantity is above stock.", True),
        (["ConcurrencyException", "Records were modified in the meanwhile"],
         "Tryton: Records were modified in the meanwhile", False),
        (["database is locked", "Traceback (most recent call last): ..."], "Tryton server error: database is locked",
         False),
    ],
)
def test_trytons_errors_are_classified(error: list[Any], message: str, permanent: bool) -> None:
    classified = _tryton_error(error)
    assert (str(classified), classified.permanent) == (message, permanent)
