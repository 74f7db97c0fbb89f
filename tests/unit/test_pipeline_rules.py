"""The pipeline's arithmetic on plain data: probabilities, amounts, the funnel."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.crm.models import STAGES
from domain.crm.pipeline_rules import (
    DEFAULT_PROBABILITY,
    Deal,
    advanced,
    conversion_rate,
    lines_amount,
    summarize_pipeline,
    weighted_amount,
)

D = Decimal


def test_default_probabilities() -> None:
    assert [DEFAULT_PROBABILITY[s] for s in STAGES] == [10, 20, 50, 75, 100, 0]


def test_weighted_amount_rounds_half_up_to_cents() -> None:
    assert weighted_amount(D("1000.00"), 75) == D("750.00")
    assert weighted_amount(D("0.05"), 10) == D("0.01")  # 0.005 -> 0.01
    assert weighted_amount(D("0.04"), 10) == D("0.00")  # 0.004 -> 0.00
    assert weighted_amount(D("123.45"), 0) == D("0.00")
    assert weighted_amount(D("10.01"), 50) == D("5.01")  # 5.005 -> 5.01


def test_lines_amount_sums_rounded_lines() -> None:
    assert lines_amount([]) == D("0.00")
    # 3 x 0.3333 = 0.9999 -> 1.00; 2 x 1.005 = 2.01; 1.5 x 10 = 15.00
    assert lines_amount([(D("3"), D("0.3333")), (D("2"), D("1.005")), (D("1.5"), D("10"))]) == D("18.01")
    # each line rounded before summing: 2 x 0.0025 rounds to 0.01 twice, not 0.01 once
    assert lines_amount([(D("1"), D("0.005")), (D("1"), D("0.005"))]) == D("0.02")


def test_advanced_compares_with_later_stages_only() -> None:
    assert advanced(("PROSPECTING",), "QUALIFICATION") is None
    assert advanced(("PROSPECTING",), "PROSPECTING") is False
    assert advanced(("PROSPECTING", "PROPOSAL"), "PROSPECTING") is True  # skipping counts
    assert advanced(("PROSPECTING", "LOST"), "PROSPECTING") is False  # LOST is not later
    assert advanced(("PROSPECTING", "WON"), "PROSPECTING") is True
    assert advanced(("PROPOSAL", "QUALIFICATION"), "PROPOSAL") is False  # backwards
    assert advanced(("QUALIFICATION", "PROPOSAL", "QUALIFICATION"), "PROPOSAL") is False
    # reached again after a step back, later advanced from the first visit on
    assert advanced(("PROPOSAL", "QUALIFICATION", "NEGOTIATION"), "QUALIFICATION") is True
    assert advanced(("PROPOSAL", "QUALIFICATION", "NEGOTIATION"), "PROPOSAL") is True


def test_conversion_rate_none_when_nobody_reached_and_for_closed_stages() -> None:
    histories = [("PROSPECTING", "WON")]
    assert conversion_rate(histories, "NEGOTIATION") is None
    assert conversion_rate(histories, "WON") is None
    assert conversion_rate(histories, "LOST") is None
    assert conversion_rate([], "PROSPECTING") is None


def test_summary_on_a_known_history() -> None:
    deals = [
        Deal("PROSPECTING", D("100.00"), 10),
        Deal("PROSPECTING", D("50.05"), 10),
        Deal("PROPOSAL", D("1000.00"), 50),
        Deal("WON", D("200.00"), 100),
        Deal("LOST", D("300.00"), 0),
    ]
    histories = [
        ("PROSPECTING",),
        ("PROSPECTING",),
        ("PROSPECTING", "QUALIFICATION", "PROPOSAL"),
        ("PROSPECTING", "QUALIFICATION", "NEGOTIATION", "WON"),
        ("PROSPECTING", "LOST"),
    ]
    rows = {r.stage: r for r in summarize_pipeline(deals, histories)}
    assert [r.stage for r in summarize_pipeline(deals, histories)] == list(STAGES)
    p = rows["PROSPECTING"]
    assert (p.count, p.amount, p.weighted_amount) == (2, D("150.05"), D("15.01"))  # 10.00 + 5.01 (5.005)
    assert p.conversion_rate == 2 / 5
    q = rows["QUALIFICATION"]
    assert (q.count, q.amount, q.weighted_amount, q.conversion_rate) == (0, D("0.00"), D("0.00"), 1.0)
    assert rows["PROPOSAL"].conversion_rate == 0.0
    assert (rows["PROPOSAL"].count, rows["PROPOSAL"].weighted_amount) == (1, D("500.00"))
    assert rows["NEGOTIATION"].conversion_rate == 1.0
    assert (rows["WON"].count, rows["WON"].amount, rows["WON"].conversion_rate) == (1, D("200.00"), None)
    assert (rows["LOST"].count, rows["LOST"].weighted_amount, rows["LOST"].conversion_rate) == (1, D("0.00"), None)


stages = st.sampled_from(STAGES)
amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
deals = st.builds(Deal, stages, amounts, st.integers(0, 100))
histories = st.lists(st.lists(stages, min_size=1, max_size=8), max_size=30)


@given(st.lists(deals, max_size=30), histories)
def test_summary_properties(deal_list: list[Deal], history_list: list[list[str]]) -> None:
    rows = summarize_pipeline(deal_list, history_list)
    assert [r.stage for r in rows] == list(STAGES)
    assert sum(r.count for r in rows) == len(deal_list)
    assert sum(r.amount for r in rows) == sum((d.amount for d in deal_list), D(0))
    for row in rows:
        assert D(0) <= row.weighted_amount <= row.amount
        assert row.weighted_amount == row.weighted_amount.quantize(D("0.01"))
        if row.stage in ("WON", "LOST"):
            assert row.conversion_rate is None
        else:
            reached = [h for h in history_list if row.stage in h]
            if not reached:
                assert row.conversion_rate is None
            else:
                assert row.conversion_rate is not None and 0 <= row.conversion_rate <= 1
        assert row.weighted_amount == sum(
            (weighted_amount(d.amount, d.probability) for d in deal_list if d.stage == row.stage), D(0)
        )


@given(st.lists(stages, min_size=1, max_size=8))
def test_a_deal_ending_won_advanced_from_every_open_stage_it_reached(history: list[str]) -> None:
    history = [*history, "WON"]
    for stage in STAGES[:4]:
        assert advanced(history, stage) is (True if stage in history else None)


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.integers(0, 100))
def test_weighted_amount_bounds(amount: Decimal, probability: int) -> None:
    weighted = weighted_amount(amount, probability)
    assert abs(weighted - amount * probability / 100) <= D("0.005")
    assert D(0) <= weighted <= amount
