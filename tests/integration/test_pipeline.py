"""Leads, opportunities, activities and the pipeline: rules, bad input, paging, query count."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from api.relay import from_global_id, to_global_id
from domain.crm.models import Activity, Customer, Lead, Opportunity, OpportunityLine, OpportunityStageChange
from domain.inventory.models import Item
from domain.shared.events import DomainEvent
from tests.integration.helpers import create_item

CREATE_CUSTOMER = """
mutation($input: CustomerInput!) { createCustomer(input: $input) { customer { id } errors { code } } }"""

OPPORTUNITY_FIELDS = """
id name stage probability amount weightedAmount expectedCloseDate owner createdAt
customer { code } lines { item { sku } quantity unitPrice } activities { kind subject }
"""

CREATE_LEAD = """
mutation($input: LeadInput!) {
  createLead(input: $input) {
    lead { id name company email phone source status owner customer { id } opportunity { id } createdAt }
    errors { code field message }
  }
}"""

CONVERT = """
mutation($id: ID!, $input: ConvertLeadInput!) {
  convertLead(id: $id, input: $input) {
    lead { id status customer { code } opportunity { name } }
    customer { id code name email phone contacts { name email phone title } }
    opportunity { id name stage probability amount expectedCloseDate owner customer { code } }
    errors { code field message }
  }
}"""

CREATE_OPPORTUNITY = f"""
mutation($input: OpportunityInput!) {{
  createOpportunity(input: $input) {{ opportunity {{ {OPPORTUNITY_FIELDS} }} errors {{ code field message }} }}
}}"""

MOVE = """
mutation($id: ID!, $stage: OpportunityStage!, $probability: Int) {
  moveOpportunity(id: $id, stage: $stage, probability: $probability) {
    opportunity { id stage probability amount weightedAmount }
    errors { code field message }
  }
}"""

REOPEN = """
mutation($id: ID!, $stage: OpportunityStage!) {
  reopenOpportunity(id: $id, stage: $stage) {
    opportunity { id stage probability amount weightedAmount }
    errors { code field message }
  }
}"""

LOG = """
mutation($input: ActivityInput!) {
  logActivity(input: $input) {
    activity { id kind subject notes dueAt doneAt createdAt }
    errors { code field message }
  }
}"""

PIPELINE = "{ pipeline { stage count amount weightedAmount conversionRate } }"


async def customer(gql: Any, code: str = "ACME") -> str:
    body = await gql(CREATE_CUSTOMER, {"input": {"code": code, "name": f"{code} Inc"}})
    return str(body["data"]["createCustomer"]["customer"]["id"])


async def opportunity(gql: Any, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = await gql(CREATE_OPPORTUNITY, {"input": {"customerId": customer_id, "name": "Deal"} | fields})
    payload = body["data"]["createOpportunity"]
    assert payload["errors"] == [], payload
    return dict(payload["opportunity"])


async def move(gql: Any, opportunity_id: str, stage: str, probability: int | None = None) -> dict[str, Any]:
    body = await gql(MOVE, {"id": opportunity_id, "stage": stage, "probability": probability})
    return dict(body["data"]["moveOpportunity"])


async def reopen(gql: Any, opportunity_id: str, stage: str) -> dict[str, Any]:
    body = await gql(REOPEN, {"id": opportunity_id, "stage": stage})
    return dict(body["data"]["reopenOpportunity"])


async def counts(sessionmaker: Any) -> tuple[int, ...]:
    async with sessionmaker() as s:
        return tuple([
            await s.scalar(select(func.count()).select_from(table))
            for table in (Customer, Lead, Opportunity, OpportunityLine, OpportunityStageChange,
                          Activity, DomainEvent)
        ])


async def last_event(sessionmaker: Any) -> DomainEvent:
    async with sessionmaker() as s:
        return (await s.execute(select(DomainEvent).order_by(DomainEvent.id.desc()))).scalars().first()


async def history(sessionmaker: Any, global_id: str) -> list[str]:
    decoded = from_global_id(global_id)
    assert decoded is not None
    async with sessionmaker() as s:
        rows = await s.execute(
            select(OpportunityStageChange.stage)
            .where(OpportunityStageChange.opportunity_id == decoded[1])
            .order_by(OpportunityStageChange.id)
        )
        return list(rows.scalars())


# ---------------------------------------------------------------- leads

async def test_create_lead_is_new_with_event_and_node(gql, sessionmaker) -> None:
    body = await gql(CREATE_LEAD, {"input": {
        "name": "Jane Roe", "company": "Roe Metal", "email": "jane@roe.test", "phone": "+1 555",
        "source": "fair", "owner": "sam",
    }})
    payload = body["data"]["createLead"]
    assert payload["errors"] == []
    lead = payload["lead"]
    assert {k: v for k, v in lead.items() if k not in ("id", "createdAt")} == {
        "name": "Jane Roe", "company": "Roe Metal", "email": "jane@roe.test", "phone": "+1 555",
        "source": "fair", "status": "NEW", "owner": "sam", "customer": None, "opportunity": None,
    }
    event = await last_event(sessionmaker)
    assert (event.type, event.entity_type) == ("lead.created", "Lead")
    node = await gql("query($id: ID!){ node(id: $id) { ... on Lead { name status } } }", {"id": lead["id"]})
    assert node["data"]["node"] == {"name": "Jane Roe", "status": "NEW"}


async def test_create_lead_bad_input_changes_nothing(gql, sessionmaker) -> None:
    before = await counts(sessionmaker)
    body = await gql(CREATE_LEAD, {"input": {"name": "  ", "email": "nope", "phone": "9" * 51}})
    errors = body["data"]["createLead"]["errors"]
    assert body["data"]["createLead"]["lead"] is None
    assert {(e["code"], tuple(e["field"])) for e in errors} == {
        ("INVALID", ("name",)), ("INVALID", ("email",)), ("INVALID", ("phone",)),
    }
    assert await counts(sessionmaker) == before


# ---------------------------------------------------------------- convert

async def new_lead(gql: Any, **fields: Any) -> str:
    body = await gql(CREATE_LEAD, {"input": {"name": "Jane Roe", "company": "Roe Metal",
                                             "email": "jane@roe.test", "phone": "555", "owner": "sam"} | fields})
    return str(body["data"]["createLead"]["lead"]["id"])


async def test_convert_lead_creates_customer_and_opportunity(gql, sessionmaker) -> None:
    lead_id = await new_lead(gql)
    before = await counts(sessionmaker)
    body = await gql(CONVERT, {"id": lead_id, "input": {
        "customerCode": "ROE", "opportunityName": "Roe first order", "amount": "1200.00",
        "expectedCloseDate": "2031-03-31",
    }})
    payload = body["data"]["convertLead"]
    assert payload["errors"] == []
    assert payload["lead"] == {"id": lead_id, "status": "CONVERTED", "customer": {"code": "ROE"},
                               "opportunity": {"name": "Roe first order"}}
    assert {k: v for k, v in payload["customer"].items() if k != "id"} == {
        "code": "ROE", "name": "Roe Metal", "email": "jane@roe.test", "phone": "555",
        "contacts": [{"name": "Jane Roe", "email": "jane@roe.test", "phone": "555", "title": None}],
    }
    opp = payload["opportunity"]
    assert {k: v for k, v in opp.items() if k != "id"} == {
        "name": "Roe first order", "stage": "PROSPECTING", "probability": 10, "amount": "1200.00",
        "expectedCloseDate": "2031-03-31", "owner": "sam", "customer": {"code": "ROE"},
    }
    # customer, opportunity, one stage change; events customer.created, opportunity.created, lead.converted
    after = await counts(sessionmaker)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 0, 1, 0, 1, 0, 3]
    assert await history(sessionmaker, opp["id"]) == ["PROSPECTING"]
    async with sessionmaker() as s:
        types = (await s.execute(select(DomainEvent.type).order_by(DomainEvent.id))).scalars().all()
    assert types[-3:] == ["customer.created", "opportunity.created", "lead.converted"]

    again = (await gql(CONVERT, {"id": lead_id, "input": {"customerCode": "ROE2", "opportunityName": "x"}}))
    assert again["data"]["convertLead"]["errors"] == [
        {"code": "INVALID_STATE", "field": ["id"], "message": "a CONVERTED lead cannot be converted"}
    ]


async def test_convert_lead_name_falls_back_to_person_without_company(gql) -> None:
    lead_id = await new_lead(gql, company=None)
    body = await gql(CONVERT, {"id": lead_id, "input": {"customerCode": "JR", "opportunityName": "Deal"}})
    assert body["data"]["convertLead"]["customer"]["name"] == "Jane Roe"
    assert body["data"]["convertLead"]["customer"]["contacts"] == [
        {"name": "Jane Roe", "email": "jane@roe.test", "phone": "555", "title": None}]
    assert body["data"]["convertLead"]["opportunity"]["amount"] == "0.00"


async def test_convert_lead_duplicate_code_changes_nothing(gql, sessionmaker) -> None:
    await customer(gql, "ROE")
    lead_id = await new_lead(gql)
    before = await counts(sessionmaker)
    body = await gql(CONVERT, {"id": lead_id, "input": {"customerCode": "ROE", "opportunityName": "Deal"}})
    payload = body["data"]["convertLead"]
    assert (payload["lead"], payload["customer"], payload["opportunity"]) == (None, None, None)
    assert payload["errors"] == [
        {"code": "DUPLICATE", "field": ["customerCode"], "message": "customer code 'ROE' is taken"}
    ]
    assert await counts(sessionmaker) == before
    async with sessionmaker() as s:
        lead = (await s.execute(select(Lead))).scalars().one()
    assert (lead.status, lead.customer_id, lead.opportunity_id) == ("NEW", None, None)


async def test_convert_lead_bad_input(gql, sessionmaker) -> None:
    lead_id = await new_lead(gql)
    disqualified = await new_lead(gql)
    decoded = from_global_id(disqualified)
    assert decoded is not None
    async with sessionmaker.begin() as s:
        await s.execute(update(Lead).where(Lead.id == decoded[1]).values(status="DISQUALIFIED"))
    before = await counts(sessionmaker)
    ok = {"customerCode": "ROE", "opportunityName": "Deal"}
    cases = [
        (lead_id, ok | {"customerCode": "bad code!"}, ("INVALID", ["customerCode"])),
        (lead_id, ok | {"opportunityName": " "}, ("INVALID", ["opportunityName"])),
        (lead_id, ok | {"amount": "-1"}, ("INVALID", ["amount"])),
        (to_global_id("Lead", 99999), ok, ("NOT_FOUND", ["id"])),
        (to_global_id("Customer", 1), ok, ("NOT_FOUND", ["id"])),
        ("garbage", ok, ("INVALID", ["id"])),
        (disqualified, ok, ("INVALID_STATE", ["id"])),
    ]
    for lead, data, expected in cases:
        errors = (await gql(CONVERT, {"id": lead, "input": data}))["data"]["convertLead"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [expected], (data, errors)
    both = await gql(CONVERT, {"id": lead_id, "input": {"customerCode": "", "opportunityName": ""}})
    assert {tuple(e["field"]) for e in both["data"]["convertLead"]["errors"]} == {
        ("customerCode",), ("opportunityName",),
    }
    assert await counts(sessionmaker) == before


# ---------------------------------------------------------------- opportunities

async def test_create_opportunity_amount_from_lines_at_list_price(gql, sessionmaker) -> None:
    cid = await customer(gql)
    bolt = await create_item(gql, "BOLT", listPrice="0.3333")
    nut = await create_item(gql, "NUT", listPrice="2.50")
    before = await counts(sessionmaker)
    opp = await opportunity(gql, cid, owner="sam", expectedCloseDate="2031-01-15", lines=[
        {"itemId": bolt, "quantity": "3"},                       # 0.9999 -> 1.00
        {"itemId": nut, "quantity": "2", "unitPrice": "1.005"},  # 2.01
    ])
    assert {k: v for k, v in opp.items() if k not in ("id", "createdAt")} == {
        "name": "Deal", "stage": "PROSPECTING", "probability": 10, "amount": "3.01",
        "weightedAmount": "0.30", "expectedCloseDate": "2031-01-15", "owner": "sam",
        "customer": {"code": "ACME"},
        "lines": [
            {"item": {"sku": "BOLT"}, "quantity": "3.00", "unitPrice": "0.3333"},
            {"item": {"sku": "NUT"}, "quantity": "2.00", "unitPrice": "1.005"},
        ],
        "activities": [],
    }
    after = await counts(sessionmaker)
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 1, 2, 1, 0, 1]
    assert await history(sessionmaker, opp["id"]) == ["PROSPECTING"]
    event = await last_event(sessionmaker)
    assert (event.type, event.entity_type) == ("opportunity.created", "Opportunity")


async def test_create_opportunity_explicit_values(gql, sessionmaker) -> None:
    cid = await customer(gql)
    item = await create_item(gql, "X", listPrice="100")
    opp = await opportunity(gql, cid, stage="PROPOSAL", amount="999.99",
                            lines=[{"itemId": item, "quantity": "1"}])
    assert (opp["stage"], opp["probability"], opp["amount"], opp["weightedAmount"]) == (
        "PROPOSAL", 50, "999.99", "500.00"  # 499.995 -> 500.00
    )
    opp = await opportunity(gql, cid, stage="NEGOTIATION", probability=33, amount="10.00")
    assert (opp["probability"], opp["weightedAmount"], opp["lines"]) == (33, "3.30", [])
    assert await history(sessionmaker, opp["id"]) == ["NEGOTIATION"]
    opp = await opportunity(gql, cid)
    assert (opp["amount"], opp["weightedAmount"]) == ("0.00", "0.00")


async def test_create_opportunity_bad_input_changes_nothing(gql, sessionmaker) -> None:
    cid = await customer(gql)
    item = await create_item(gql, "X")
    before = await counts(sessionmaker)
    body = await gql(CREATE_OPPORTUNITY, {"input": {
        "customerId": cid, "name": "", "probability": 101, "amount": "-1",
        "lines": [{"itemId": item, "quantity": "0"}, {"itemId": item, "quantity": "1", "unitPrice": "-2"}],
    }})
    errors = body["data"]["createOpportunity"]["errors"]
    assert {(e["code"], tuple(e["field"])) for e in errors} == {
        ("INVALID", ("name",)), ("INVALID", ("probability",)), ("INVALID", ("amount",)),
        ("INVALID", ("lines", "0", "quantity")), ("INVALID", ("lines", "1", "unitPrice")),
    }
    cases = [
        ({"customerId": to_global_id("Customer", 99999)}, ("NOT_FOUND", ["customerId"])),
        ({"customerId": item}, ("NOT_FOUND", ["customerId"])),
        ({"customerId": "garbage"}, ("INVALID", ["customerId"])),
        ({"probability": -1}, ("INVALID", ["probability"])),
        ({"lines": [{"itemId": item, "quantity": "1"}, {"itemId": to_global_id("Item", 99999), "quantity": "1"}]},
         ("NOT_FOUND", ["lines", "1", "itemId"])),
        ({"lines": [{"itemId": cid, "quantity": "1"}]}, ("NOT_FOUND", ["lines", "0", "itemId"])),
        ({"lines": [{"itemId": item, "quantity": "-3"}]}, ("INVALID", ["lines", "0", "quantity"])),
    ]
    for fields, expected in cases:
        body = await gql(CREATE_OPPORTUNITY, {"input": {"customerId": cid, "name": "Deal"} | fields})
        payload = body["data"]["createOpportunity"]
        assert payload["opportunity"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected], (fields, payload)
    assert await counts(sessionmaker) == before


async def test_move_applies_default_probability_and_records_history(gql, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid, amount="1000.00")
    moved = await move(gql, opp["id"], "QUALIFICATION")
    assert moved["errors"] == []
    assert moved["opportunity"] == {"id": opp["id"], "stage": "QUALIFICATION", "probability": 20,
                                    "amount": "1000.00", "weightedAmount": "200.00"}
    moved = await move(gql, opp["id"], "NEGOTIATION", 60)
    assert (moved["opportunity"]["probability"], moved["opportunity"]["weightedAmount"]) == (60, "600.00")
    moved = await move(gql, opp["id"], "NEGOTIATION", 80)  # same stage: probability only
    assert (moved["opportunity"]["stage"], moved["opportunity"]["probability"]) == ("NEGOTIATION", 80)
    moved = await move(gql, opp["id"], "WON")
    assert (moved["opportunity"]["probability"], moved["opportunity"]["weightedAmount"]) == (100, "1000.00")
    assert await history(sessionmaker, opp["id"]) == ["PROSPECTING", "QUALIFICATION", "NEGOTIATION", "WON"]
    event = await last_event(sessionmaker)
    assert (event.type, event.payload) == (
        "opportunity.moved", {"from": "NEGOTIATION", "to": "WON", "probability": 100}
    )
    lost = await opportunity(gql, cid)
    assert (await move(gql, lost["id"], "LOST"))["opportunity"]["probability"] == 0


async def test_move_bad_input_changes_nothing(gql, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid)
    before = await counts(sessionmaker)
    for args, expected in [
        ((opp["id"], "PROPOSAL", 101), ("INVALID", ["probability"])),
        ((opp["id"], "PROPOSAL", -5), ("INVALID", ["probability"])),
        ((to_global_id("Opportunity", 99999), "PROPOSAL", None), ("NOT_FOUND", ["id"])),
        ((cid, "PROPOSAL", None), ("NOT_FOUND", ["id"])),
    ]:
        payload = await move(gql, *args)
        assert payload["opportunity"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]
    assert await counts(sessionmaker) == before


# ---------------------------------------------------------------- activities

async def test_log_activity(gql, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid)
    body = await gql(LOG, {"input": {"opportunityId": opp["id"], "kind": "CALL", "subject": "Intro call",
                                     "notes": "went well", "dueAt": "2031-01-01T10:00:00+00:00"}})
    payload = body["data"]["logActivity"]
    assert payload["errors"] == []
    activity = payload["activity"]
    assert (activity["kind"], activity["subject"], activity["notes"], activity["doneAt"]) == (
        "CALL", "Intro call", "went well", None
    )
    assert activity["dueAt"].startswith("2031-01-01T10:00:00")
    event = await last_event(sessionmaker)
    assert (event.type, event.entity_type) == ("activity.logged", "Activity")
    read = await gql("query($id: ID!){ node(id: $id) { ... on Opportunity { activities { id subject } } } }",
                     {"id": opp["id"]})
    assert read["data"]["node"]["activities"] == [{"id": activity["id"], "subject": "Intro call"}]
    node = await gql("query($id: ID!){ node(id: $id) { ... on Activity { kind } } }", {"id": activity["id"]})
    assert node["data"]["node"] == {"kind": "CALL"}


async def test_log_activity_bad_input_changes_nothing(gql, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid)
    before = await counts(sessionmaker)
    for fields, expected in [
        ({"subject": " "}, ("INVALID", ["subject"])),
        ({"subject": "x" * 201}, ("INVALID", ["subject"])),
        ({"opportunityId": to_global_id("Opportunity", 99999)}, ("NOT_FOUND", ["opportunityId"])),
        ({"opportunityId": cid}, ("NOT_FOUND", ["opportunityId"])),
    ]:
        body = await gql(LOG, {"input": {"opportunityId": opp["id"], "kind": "NOTE", "subject": "s"} | fields})
        payload = body["data"]["logActivity"]
        assert payload["activity"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]
    assert await counts(sessionmaker) == before


# ---------------------------------------------------------------- permissions

async def test_writes_need_crm_write(gql, make_token, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid)
    lead_id = await new_lead(gql)
    token = await make_token("finance")
    before = await counts(sessionmaker)
    calls = [
        ("createLead", CREATE_LEAD, {"input": {"name": "x"}}),
        ("convertLead", CONVERT, {"id": lead_id, "input": {"customerCode": "C", "opportunityName": "x"}}),
        ("createOpportunity", CREATE_OPPORTUNITY, {"input": {"customerId": cid, "name": "x"}}),
        ("moveOpportunity", MOVE, {"id": opp["id"], "stage": "WON"}),
        ("reopenOpportunity", REOPEN, {"id": opp["id"], "stage": "PROPOSAL"}),
        ("logActivity", LOG, {"input": {"opportunityId": opp["id"], "kind": "NOTE", "subject": "x"}}),
    ]
    for name, query, variables in calls:
        body = await gql(query, variables, token=token)
        assert [e["code"] for e in body["data"][name]["errors"]] == ["FORBIDDEN"], name
    assert await counts(sessionmaker) == before
    # finance may read the pipeline (crm:read)
    body = await gql("{ opportunities { totalCount } leads { totalCount } pipeline { stage } }", token=token)
    assert body["data"]["opportunities"]["totalCount"] == 1


# ---------------------------------------------------------------- paging and filters

LEADS = """
query($first: Int, $after: String, $status: [LeadStatus!]) {
  leads(first: $first, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { name status } }
  }
}"""

OPPORTUNITIES = """
query($first: Int, $after: String, $stage: [OpportunityStage!]) {
  opportunities(first: $first, after: $after, stage: $stage) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { name stage } }
  }
}"""


async def test_leads_paging_and_status_filter(gql, sessionmaker) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Lead), [
            {"name": f"L{i:02d}", "status": ("NEW", "QUALIFIED", "DISQUALIFIED")[i % 3]} for i in range(12)
        ])
    page = (await gql(LEADS, {"first": 5}))["data"]["leads"]
    assert page["totalCount"] == 12 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in page["edges"]] == ["L00", "L01", "L02", "L03", "L04"]
    nxt = (await gql(LEADS, {"first": 5, "after": page["pageInfo"]["endCursor"]}))["data"]["leads"]
    assert [e["node"]["name"] for e in nxt["edges"]] == ["L05", "L06", "L07", "L08", "L09"]
    qualified = (await gql(LEADS, {"status": ["QUALIFIED", "DISQUALIFIED"]}))["data"]["leads"]
    assert qualified["totalCount"] == 8
    assert {e["node"]["status"] for e in qualified["edges"]} == {"QUALIFIED", "DISQUALIFIED"}
    assert (await gql(LEADS, {"status": ["CONVERTED"]}))["data"]["leads"]["totalCount"] == 0
    assert (await gql(LEADS, {"status": []}))["data"]["leads"]["edges"] == []


async def test_opportunities_paging_stage_filter_and_per_customer(gql, sessionmaker) -> None:
    a, b = await customer(gql, "A"), await customer(gql, "B")
    for i in range(7):
        opp = await opportunity(gql, a if i % 2 == 0 else b, name=f"O{i}")
        if i % 3 == 0:
            await move(gql, opp["id"], "PROPOSAL")
    page = (await gql(OPPORTUNITIES, {"first": 4}))["data"]["opportunities"]
    assert page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"] is True
    rest = (await gql(OPPORTUNITIES, {"first": 4, "after": page["pageInfo"]["endCursor"]}))["data"]["opportunities"]
    assert [e["node"]["name"] for e in page["edges"] + rest["edges"]] == [f"O{i}" for i in range(7)]
    assert rest["pageInfo"]["hasNextPage"] is False
    proposal = (await gql(OPPORTUNITIES, {"stage": ["PROPOSAL"]}))["data"]["opportunities"]
    assert [e["node"]["name"] for e in proposal["edges"]] == ["O0", "O3", "O6"]
    assert proposal["totalCount"] == 3

    query = """
    query($first: Int, $after: String) { customers { edges { node { code
      opportunities(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { name } } }
    } } } }"""
    data = (await gql(query, {"first": 2}))["data"]["customers"]["edges"]
    by_code = {e["node"]["code"]: e["node"]["opportunities"] for e in data}
    assert [e["node"]["name"] for e in by_code["A"]["edges"]] == ["O0", "O2"]
    assert (by_code["A"]["totalCount"], by_code["A"]["pageInfo"]["hasNextPage"]) == (4, True)
    assert [e["node"]["name"] for e in by_code["B"]["edges"]] == ["O1", "O3"]
    assert (by_code["B"]["totalCount"], by_code["B"]["pageInfo"]["hasPreviousPage"]) == (3, False)
    cursor = by_code["A"]["pageInfo"]["endCursor"]
    data = (await gql(query, {"first": 5, "after": cursor}))["data"]["customers"]["edges"]
    a_page = next(e["node"]["opportunities"] for e in data if e["node"]["code"] == "A")
    assert [e["node"]["name"] for e in a_page["edges"]] == ["O4", "O6"]
    assert (a_page["pageInfo"]["hasNextPage"], a_page["pageInfo"]["hasPreviousPage"]) == (False, True)


# ---------------------------------------------------------------- pipeline

async def test_pipeline_numbers_on_a_known_history(gql) -> None:
    cid = await customer(gql)
    empty = (await gql(PIPELINE))["data"]["pipeline"]
    assert [(r["stage"], r["count"], r["amount"], r["conversionRate"]) for r in empty] == [
        (s, 0, "0.00", None) for s in ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "WON", "LOST")
    ]

    async def deal(amount: str, *stages: str, probability: int | None = None) -> None:
        opp = await opportunity(gql, cid, amount=amount)
        for stage in stages:
            payload = await move(gql, opp["id"], stage, probability if stage == stages[-1] else None)
            assert payload["errors"] == []

    await deal("100.00")                                                        # P
    await deal("50.05")                                                         # P
    await deal("1000.00", "QUALIFICATION", "PROPOSAL")                          # P Q Pr
    await deal("400.00", "QUALIFICATION", "PROPOSAL", "QUALIFICATION")          # P Q Pr Q (went back)
    await deal("200.00", "QUALIFICATION", "NEGOTIATION", "WON")                 # P Q N W
    await deal("300.00", "LOST")                                                # P L
    await deal("80.00", "PROPOSAL", "NEGOTIATION", probability=90)              # P Pr N (90 %)

    rows = {r["stage"]: r for r in (await gql(PIPELINE))["data"]["pipeline"]}
    assert list(rows) == ["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]
    # conversion rate: of the deals that ever reached the stage, the share WON now
    # PROSPECTING: 2 open (100 at 10 % = 10.00; 50.05 at 10 % = 5.005 -> 5.01); 7 reached, 1 WON
    assert rows["PROSPECTING"] == {"stage": "PROSPECTING", "count": 2, "amount": "150.05",
                                   "weightedAmount": "15.01", "conversionRate": 1 / 7}
    # QUALIFICATION: 1 open (400 at 20 %); reached by 3 (1000, 400, 200), 200 WON
    assert rows["QUALIFICATION"] == {"stage": "QUALIFICATION", "count": 1, "amount": "400.00",
                                     "weightedAmount": "80.00", "conversionRate": 1 / 3}
    # PROPOSAL: 1 open (1000 at 50 %); reached by 3 (1000, 400, 80), none WON
    assert rows["PROPOSAL"] == {"stage": "PROPOSAL", "count": 1, "amount": "1000.00",
                                "weightedAmount": "500.00", "conversionRate": 0.0}
    # NEGOTIATION: 1 open (80 at 90 % = 72.00); reached by 2 (200 -> WON, 80 open) -> 1/2
    assert rows["NEGOTIATION"] == {"stage": "NEGOTIATION", "count": 1, "amount": "80.00",
                                   "weightedAmount": "72.00", "conversionRate": 0.5}
    assert rows["WON"] == {"stage": "WON", "count": 1, "amount": "200.00", "weightedAmount": "200.00",
                           "conversionRate": 1.0}
    assert rows["LOST"] == {"stage": "LOST", "count": 1, "amount": "300.00", "weightedAmount": "0.00",
                            "conversionRate": 0.0}

    # WON, reopened, LOST: converted nowhere (it counted as WON everywhere before)
    won = await opportunity(gql, cid, amount="10.00")
    assert (await move(gql, won["id"], "WON"))["errors"] == []
    assert (await reopen(gql, won["id"], "NEGOTIATION"))["errors"] == []
    assert (await move(gql, won["id"], "LOST"))["errors"] == []
    rows = {r["stage"]: r["conversionRate"] for r in (await gql(PIPELINE))["data"]["pipeline"]}
    assert rows == {"PROSPECTING": 1 / 8, "QUALIFICATION": 1 / 3, "PROPOSAL": 0.0,
                    "NEGOTIATION": 1 / 3, "WON": 0.5, "LOST": 0.0}


async def test_won_and_lost_are_final_and_reopening_is_the_way_back(gql, sessionmaker) -> None:
    cid = await customer(gql)
    opp = await opportunity(gql, cid, amount="1000.00")
    assert (await move(gql, opp["id"], "WON"))["errors"] == []
    before = await counts(sessionmaker)
    for stage in ("NEGOTIATION", "LOST", "WON"):
        refused = await move(gql, opp["id"], stage)
        assert refused["opportunity"] is None
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("INVALID_STATE", ["id"])
        assert "reopenOpportunity" in error["message"]
    # reopening to a final stage, or an open opportunity, is refused too
    assert [(e["code"], e["field"]) for e in (await reopen(gql, opp["id"], "LOST"))["errors"]] == [
        ("INVALID", ["stage"])]
    open_one = await opportunity(gql, cid)
    assert [e["code"] for e in (await reopen(gql, open_one["id"], "PROPOSAL"))["errors"]] == ["INVALID_STATE"]
    assert await counts(sessionmaker) == (before[0], before[1], before[2] + 1, before[3], before[4] + 1,
                                          before[5], before[6] + 1)  # only the new opportunity

    reopened = await reopen(gql, opp["id"], "NEGOTIATION")
    assert reopened["errors"] == []
    assert reopened["opportunity"] == {"id": opp["id"], "stage": "NEGOTIATION", "probability": 75,
                                       "amount": "1000.00", "weightedAmount": "750.00"}
    assert await history(sessionmaker, opp["id"]) == ["PROSPECTING", "WON", "NEGOTIATION"]
    event = await last_event(sessionmaker)
    assert (event.type, event.payload) == (
        "opportunity.reopened", {"from": "WON", "to": "NEGOTIATION", "probability": 75}
    )
    assert (await move(gql, opp["id"], "LOST"))["errors"] == []  # open again: moves as before
    assert (await reopen(gql, opp["id"], "PROSPECTING"))["opportunity"]["stage"] == "PROSPECTING"
    assert await history(sessionmaker, opp["id"]) == ["PROSPECTING", "WON", "NEGOTIATION", "LOST", "PROSPECTING"]


async def test_pipeline_uses_a_constant_number_of_statements(gql, sessionmaker, sql_counter) -> None:
    await customer(gql)
    await gql("{ viewer { name } }")
    with sql_counter.measure() as empty:
        await gql(PIPELINE)
    await seed(sessionmaker, 40)
    with sql_counter.measure() as full:
        await gql(PIPELINE)
    assert empty.count == full.count <= 3


# ---------------------------------------------------------------- query count

async def seed(sessionmaker: Any, n: int) -> None:
    async with sessionmaker.begin() as s:
        customers = (await s.execute(insert(Customer).returning(Customer.id), [
            {"code": f"C{i}", "name": f"Customer {i}"} for i in range(5)
        ])).scalars().all()
        items = (await s.execute(insert(Item).returning(Item.id), [
            {"sku": f"SKU-{i}", "name": f"item {i}", "kind": "FINISHED", "procurement": "BUY"} for i in range(4)
        ])).scalars().all()
        opps = (await s.execute(insert(Opportunity).returning(Opportunity.id), [
            {"customer_id": customers[i % 5], "name": f"O{i}", "stage": "PROSPECTING", "amount": Decimal(i)}
            for i in range(n)
        ])).scalars().all()
        await s.execute(insert(OpportunityStageChange), [
            {"opportunity_id": o, "stage": "PROSPECTING"} for o in opps
        ])
        await s.execute(insert(OpportunityLine), [
            {"opportunity_id": o, "position": k, "item_id": items[(i + k) % 4], "quantity": Decimal(1),
             "unit_price": Decimal(2)}
            for i, o in enumerate(opps) for k in range(2)
        ])
        await s.execute(insert(Activity), [
            {"opportunity_id": o, "kind": "NOTE", "subject": f"note {i}"} for i, o in enumerate(opps)
        ])


DEEP = """
query($first: Int!) {
  opportunities(first: $first) { totalCount edges { node {
    name weightedAmount customer { code } lines { item { sku } quantity } activities { subject }
  } } }
}"""

LEADS_DEEP = """
query($first: Int!) { leads(first: $first) { edges { node { name customer { code } opportunity { name } } } } }"""


async def test_opportunities_page_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed(sessionmaker, 50)
    async with sessionmaker.begin() as s:
        opps = (await s.execute(select(Opportunity.id, Opportunity.customer_id))).all()
        await s.execute(insert(Lead), [
            {"name": f"L{i}", "status": "CONVERTED", "customer_id": c, "opportunity_id": o}
            for i, (o, c) in enumerate(opps)
        ])
    await gql("{ viewer { name } }")  # authenticate once so the token cache is warm

    async def statements(first: int) -> int:
        with sql_counter.measure() as counted:
            body = await gql(DEEP, {"first": first})
        edges = body["data"]["opportunities"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["lines"]) == 2 and len(e["node"]["activities"]) == 1 for e in edges)
        assert all(e["node"]["customer"]["code"].startswith("C") for e in edges)
        return counted.count

    five, fifty = await statements(5), await statements(50)
    assert five == fifty, (five, fifty)
    assert fifty <= 7  # page, count, customers, lines, items, activities

    async def lead_statements(first: int) -> int:
        with sql_counter.measure() as counted:
            body = await gql(LEADS_DEEP, {"first": first})
        assert all(e["node"]["opportunity"]["name"] for e in body["data"]["leads"]["edges"])
        return counted.count

    assert await lead_statements(5) == await lead_statements(50)

    customers_query = """{ customers { edges { node { code opportunities(first: 20) {
      totalCount edges { node { name lines { item { sku } } } } } } } } }"""
    with sql_counter.measure() as counted:
        body = await gql(customers_query)
    assert all(len(e["node"]["opportunities"]["edges"]) == 10 for e in body["data"]["customers"]["edges"])
    assert counted.count <= 6  # customers, opportunity pages, counts, lines, items
