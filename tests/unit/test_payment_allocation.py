"""Payment allocation and invoiced shares: pure arithmetic, no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.finance.allocation import OpenInvoice, allocate, cents, invoiced_share

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
balances = st.lists(
    st.tuples(st.integers(0, 60), money), min_size=0, max_size=8
).map(lambda rows: [
    OpenInvoice(id=i + 1, due_date=date(2024, 1, 1) + timedelta(days=days), balance=bal)
    for i, (days, bal) in enumerate(rows)
])


def test_oldest_due_first_then_id() -> None:
    invoices = [
        OpenInvoice(1, date(2024, 3, 1), D("100.00")),
        OpenInvoice(2, date(2024, 1, 1), D("50.00")),
        OpenInvoice(3, date(2024, 1, 1), D("30.00")),
    ]
    result = allocate(D("120.00"), invoices)
    assert result.applied == [(2, D("50.00")), (3, D("30.00")), (1, D("40.00"))]
    assert result.surplus == 0


def test_surplus_is_reported() -> None:
    result = allocate(D("10.00"), [OpenInvoice(1, date(2024, 1, 1), D("7.50"))])
    assert result.applied == [(1, D("7.50"))]
    assert result.surplus == D("2.50")
    assert allocate(D("5.00"), []).surplus == D("5.00")


@given(amount=money, invoices=balances)
def test_allocations_add_up_never_exceed_and_go_oldest_first(amount: Decimal, invoices: list[OpenInvoice]) -> None:
    result = allocate(amount, invoices)
    assert sum((a for _, a in result.applied), D(0)) + result.surplus == amount
    assert result.surplus >= 0
    by_id = {i.id: i for i in invoices}
    assert all(0 < a <= by_id[iid].balance for iid, a in result.applied)
    assert len({iid for iid, _ in result.applied}) == len(result.applied)
    owed = sum((i.balance for i in invoices), D(0))
    assert result.surplus == max(D(0), amount - owed)
    # oldest first: every invoice before the last one applied is paid in full,
    # and none older than an applied one is left out
    order = sorted(invoices, key=lambda i: (i.due_date, i.id))
    applied_ids = [iid for iid, _ in result.applied]
    assert applied_ids == [i.id for i in order[: len(applied_ids)]]
    for iid, a in result.applied[:-1]:
        assert a == by_id[iid].balance


def test_invoiced_share_rounds_half_up_and_last_takes_remainder() -> None:
    total, qty = D("100.00"), D("3")
    first = invoiced_share(total, qty, D(0), D(1))
    second = invoiced_share(total, qty, D(1), D(1))
    third = invoiced_share(total, qty, D(2), D(1))
    assert (first, second, third) == (D("33.33"), D("33.34"), D("33.33"))
    assert first + second + third == total
    assert invoiced_share(D("0.05"), D("2"), D(0), D(1)) == D("0.03")  # 0.025 half-up


@given(
    amount=st.decimals(min_value=D("0"), max_value=D("1000000"), places=2),
    parts=st.lists(st.integers(1, 1000), min_size=1, max_size=6),
)
def test_invoiced_shares_sum_to_the_line_exactly(amount: Decimal, parts: list[int]) -> None:
    quantity = D(sum(parts))
    done = D(0)
    shares = []
    for part in parts:
        shares.append(invoiced_share(amount, quantity, done, D(part)))
        done += part
    assert sum(shares, D(0)) == amount
    assert all(s == cents(s) and s >= 0 for s in shares)
