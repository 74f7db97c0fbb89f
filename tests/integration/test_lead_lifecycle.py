"""Leads (qualify, disqualify, convert) and activities (complete, the follow-up list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.relay import to_global_id
from domain.shared.events import DomainEvent
from tests.integration.helpers import snapshot_table
from tests.integration.test_pipeline import CONVERT, LOG, customer, new_lead, opportunity

ERRORS = "errors { code field message }"
LEAD = "lead { id status disqualificationReason }"
QUALIFY = "mutation($id: ID!) { qualifyLead(id: $id) { " + LEAD + " " + ERRORS + " } }"
DISQUALIFY = (
    "mutation($id: ID!, $reason: String!) { disqualifyLead(id: $id, reason: $reason) { "
    + LEAD + " " + ERRORS + " } }"
)
COMPLETE = (
    "mutation($id: ID!, $outcome: String!) { completeActivity(id: $id, outcome: $outcome) { "
    "activity { id done doneAt outcome createdAt subject } " + ERRORS + " } }"
)
ACTIVITIES = """
query($first: Int, $after: String, $dueBefore: DateTime, $done: Boolean) {
  activities(first: $first, after: $after, dueBefore: $dueBefore, done: $done) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { subject dueAt done opportunity { name customer { code } } } }
  }
}"""


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def qualify(gql: Any, lead_id: str, token: str | None = None) -> dict[str, Any]:
    extra = {} if token is None else {"token": token}
    return dict((await gql(QUALIFY, {"id": lead_id}, **extra))["data"]["qualifyLead"])


async def disqualify(gql: Any, lead_id: str, reason: str, token: str | None = None) -> dict[str, Any]:
    extra = {} if token is None else {"token": token}
    return dict((await gql(DISQUALIFY, {"id": lead_id, "reason": reason}, **extra))["data"]["disqualifyLead"])


async def complete(gql: Any, activity_id: str, outcome: str, token: str | None = None) -> dict[str, Any]:
    extra = {} if token is None else {"token": token}
    body = await gql(COMPLETE, {"id": activity_id, "outcome": outcome}, **extra)
    return dict(body["data"]["completeActivity"])


async def lead_events(sessionmaker: Any) -> list[tuple[str, dict[str, Any]]]:
    async with sessionmaker() as s:
        rows = await s.execute(
            select(DomainEvent.type, DomainEvent.payload).where(DomainEvent.entity_type == "Lead")
            .order_by(DomainEvent.id)
        )
        return [(row.type, row.payload) for row in rows]


async def test_qualify_disqualify_and_back(gql, sessionmaker) -> None:
    lead_id = await new_lead(gql)
    payload = await qualify(gql, lead_id)
    assert payload["errors"] == [] and payload["lead"]["status"] == "QUALIFIED"
    payload = await disqualify(gql, lead_id, "  no budget ")
    assert payload["lead"] == {"id": lead_id, "status": "DISQUALIFIED", "disqualificationReason": "no budget"}
    # the way back: a disqualified lead is qualified again; the reason stays on record
    payload = await qualify(gql, lead_id)
    assert payload["lead"] == {"id": lead_id, "status": "QUALIFIED", "disqualificationReason": "no budget"}
    assert [(t, p.get("from"), p.get("reason")) for t, p in await lead_events(sessionmaker)] == [
        ("lead.created", None, None), ("lead.qualified", "NEW", None),
        ("lead.disqualified", "QUALIFIED", "no budget"), ("lead.qualified", "DISQUALIFIED", None),
    ]
    # a NEW lead is disqualified directly
    fresh = await new_lead(gql)
    assert (await disqualify(gql, fresh, "spam"))["lead"]["status"] == "DISQUALIFIED"


async def test_lead_refusals_change_nothing(gql, sessionmaker, make_token) -> None:
    qualified = await new_lead(gql)
    await qualify(gql, qualified)
    disqualified = await new_lead(gql)
    await disqualify(gql, disqualified, "spam")
    converted = await new_lead(gql)
    body = await gql(CONVERT, {"id": converted, "input": {"customerCode": "ROE", "opportunityName": "Deal"}})
    assert body["data"]["convertLead"]["errors"] == []
    finance = await make_token("finance")
    before = await snapshot_table(sessionmaker, "leads", "customers", "opportunities")

    for lead_id, code in ((qualified, "INVALID_STATE"), (converted, "INVALID_STATE"),
                          (to_global_id("Lead", 999), "NOT_FOUND"), (to_global_id("Customer", 1), "NOT_FOUND")):
        assert errors(await qualify(gql, lead_id)) == [(code, ["id"])], lead_id
    for lead_id, reason, expected in (
        (disqualified, "again", ("INVALID_STATE", ["id"])), (converted, "late", ("INVALID_STATE", ["id"])),
        (qualified, "   ", ("INVALID", ["reason"])), (qualified, "x" * 501, ("INVALID", ["reason"])),
        (to_global_id("Lead", 999), "x", ("NOT_FOUND", ["id"])), ("garbage", "x", ("INVALID", ["id"])),
    ):
        assert errors(await disqualify(gql, lead_id, reason)) == [expected], (lead_id, reason)
    assert "CONVERTED is final" in (await qualify(gql, converted))["errors"][0]["message"]
    # convertLead refuses a disqualified lead, and says how back
    refused = (await gql(CONVERT, {"id": disqualified, "input": {"customerCode": "D1", "opportunityName": "x"}}))
    assert refused["data"]["convertLead"]["errors"] == [{
        "code": "INVALID_STATE", "field": ["id"],
        "message": "a DISQUALIFIED lead cannot be converted; qualifyLead brings it back first"}]
    for payload in (await qualify(gql, disqualified, finance), await disqualify(gql, qualified, "x", finance)):
        assert errors(payload) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, "leads", "customers", "opportunities") == before

    # a qualified lead converts
    ok = await gql(CONVERT, {"id": qualified, "input": {"customerCode": "Q1", "opportunityName": "Deal"}})
    assert ok["data"]["convertLead"]["lead"]["status"] == "CONVERTED"


async def log(gql: Any, opportunity_id: str, subject: str, due: datetime | None = None) -> str:
    body = await gql(LOG, {"input": {"opportunityId": opportunity_id, "kind": "TASK", "subject": subject,
                                     "dueAt": None if due is None else due.isoformat()}})
    assert body["data"]["logActivity"]["errors"] == [], body
    return str(body["data"]["logActivity"]["activity"]["id"])


async def test_complete_activity_once(gql, sessionmaker, make_token) -> None:
    opp = await opportunity(gql, await customer(gql))
    activity = await log(gql, opp["id"], "Call back")
    finance = await make_token("finance")
    before = await snapshot_table(sessionmaker, "activities")
    for activity_id, outcome, expected in (
        (activity, " ", ("INVALID", ["outcome"])),
        (to_global_id("Activity", 999), "x", ("NOT_FOUND", ["id"])),
        (opp["id"], "x", ("NOT_FOUND", ["id"])),
        ("garbage", "x", ("INVALID", ["id"])),
    ):
        assert errors(await complete(gql, activity_id, outcome)) == [expected], activity_id
    assert errors(await complete(gql, activity, "x", finance)) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, "activities") == before

    payload = await complete(gql, activity, " Will order in May ")
    assert payload["errors"] == []
    done = payload["activity"]
    assert (done["done"], done["outcome"], done["subject"]) == (True, "Will order in May", "Call back")
    assert datetime.fromisoformat(done["doneAt"]) >= datetime.fromisoformat(done["createdAt"])
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent).order_by(DomainEvent.id.desc()))).scalars().first()
    assert (event.type, event.entity_type) == ("activity.completed", "Activity")

    before = await snapshot_table(sessionmaker, "activities")
    again = await complete(gql, activity, "twice")
    assert errors(again) == [("INVALID_STATE", ["id"])] and "already completed" in again["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "activities") == before


async def test_follow_ups_in_due_order_pages_and_filters(gql) -> None:
    acme = await opportunity(gql, await customer(gql, "ACME"), name="Acme deal")
    zed = await opportunity(gql, await customer(gql, "ZED"), name="Zed deal")
    now = datetime.now(UTC).replace(microsecond=0)
    # logged out of due order, two due at the same time, two without a due date
    plan = [
        ("later", acme, now + timedelta(days=5)), ("undated 1", zed, None),
        ("overdue", zed, now - timedelta(days=2)), ("tie A", acme, now + timedelta(days=1)),
        ("tie B", zed, now + timedelta(days=1)), ("undated 2", acme, None),
        ("long overdue", acme, now - timedelta(days=9)),
    ]
    ids = {subject: await log(gql, opp["id"], subject, due) for subject, opp, due in plan}
    await complete(gql, ids["overdue"], "done")
    expected = ["long overdue", "overdue", "tie A", "tie B", "later", "undated 1", "undated 2"]

    async def read(**variables: Any) -> dict[str, Any]:
        return dict((await gql(ACTIVITIES, variables))["data"]["activities"])

    everything = await read()
    assert [e["node"]["subject"] for e in everything["edges"]] == expected
    assert everything["totalCount"] == 7
    first = everything["edges"][0]["node"]
    assert first["opportunity"] == {"name": "Acme deal", "customer": {"code": "ACME"}}

    # keyset pages of two walk the same order, across the tie and into the undated ones
    seen: list[str] = []
    after = None
    while True:
        page = await read(first=2, after=after)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["subject"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected

    # what a salesperson must do first: open and due by now
    open_due = await read(dueBefore=now.isoformat(), done=False)
    assert [e["node"]["subject"] for e in open_due["edges"]] == ["long overdue"]
    assert open_due["totalCount"] == 1
    assert [e["node"]["subject"] for e in (await read(done=True))["edges"]] == ["overdue"]
    assert (await read(done=False))["totalCount"] == 6

    bad = await gql(ACTIVITIES, {"after": "garbage"}, expect_errors=True)
    assert bad["data"] is None and "not a valid cursor" in bad["errors"][0]["message"]

