"""The pipeline's arithmetic on plain data: probabilities, amounts, the funnel."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.crm.models import STAGES
from domain.crm.pipeline_rules import (
    DEFAULT_PROBABILITY,
    Deal,
    conversion_rate,
    converted,
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


def test_converted_means_reached_the_stage_and_won_now() -> None:
    assert converted(("PROSPECTING",), "QUALIFICATION") is None
    assert converted(("PROSPECTING",), "PROSPECTING") is False  # still open: not won yet
    assert converted(("PROSPECTING", "WON"), "PROSPECTING") is True  # skipping counts
    assert converted(("PROSPECTING", "LOST"), "PROSPECTING") is False
    assert converted(("PROSPECTING", "WON"), "WON") is True
    # WON, reopened, LOST: not converted, at any stage it reached
    reopened = ("PROSPECTING", "WON", "NEGOTIATION", "LOST")
    assert [converted(reopened, s) for s in ("PROSPECTING", "NEGOTIATION", "WON", "LOST")] == [False] * 4
    # LOST, reopened, WON: converted, LOST included
    won_back = ("PROSPECTING", "LOST", "PROPOSAL", "WON")
    assert [converted(won_back, s) for s in ("PROSPECTING", "PROPOSAL", "WON", "LOST")] == [True] * 4


def test_conversion_rate_none_when_nobody_reached_the_stage() -> None:
    histories = [("PROSPECTING", "WON")]
    assert conversion_rate(histories, "NEGOTIATION") is None
    assert conversion_rate(histories, "LOST") is None
    assert conversion_rate(histories, "WON") == 1.0
    assert conversion_rate([], "PROSPECTING") is None


def test_a_lost_opportunity_that_was_won_lowers_every_rate_it_reached() -> None:
    histories = [("PROSPECTING", "WON"), ("PROSPECTING", "NEGOTIATION", "WON", "NEGOTIATION", "LOST")]
    assert conversion_rate(histories, "PROSPECTING") == 0.5
    assert conversion_rate(histories, "NEGOTIATION") == 0.0
    assert conversion_rate(histories, "WON") == 0.5
    assert conversion_rate(histories, "LOST") == 0.0


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
    assert p.conversion_rate == 1 / 5  # reached by all five, one WON
    q = rows["QUALIFICATION"]
    assert (q.count, q.amount, q.weighted_amount, q.conversion_rate) == (0, D("0.00"), D("0.00"), 0.5)
    assert rows["PROPOSAL"].conversion_rate == 0.0
    assert (rows["PROPOSAL"].count, rows["PROPOSAL"].weighted_amount) == (1, D("500.00"))
    assert rows["NEGOTIATION"].conversion_rate == 1.0
    assert (rows["WON"].count, rows["WON"].amount, rows["WON"].conversion_rate) == (1, D("200.00"), 1.0)
    assert (rows["LOST"].count, rows["LOST"].weighted_amount, rows["LOST"].conversion_rate) == (1, D("0.00"), 0.0)


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
        reached = [h for h in history_list if row.stage in h]
        if not reached:
            assert row.conversion_rate is None
        else:
            won = [h for h in reached if h[-1] == "WON"]
            assert row.conversion_rate == len(won) / len(reached)
        assert row.weighted_amount == sum(
            (weighted_amount(d.amount, d.probability) for d in deal_list if d.stage == row.stage), D(0)
        )


@given(st.lists(stages, min_size=1, max_size=8))
def test_a_deal_converted_at_a_stage_is_converted_at_every_stage_it_reached(history: list[str]) -> None:
    outcomes = {converted(history, stage) for stage in STAGES if stage in history}
    assert outcomes == {history[-1] == "WON"}


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.integers(0, 100))
def test_weighted_amount_bounds(amount: Decimal, probability: int) -> None:
    weighted = weighted_amount(amount, probability)
    assert abs(weighted - amount * probability / 100) <= D("0.005")
    assert D(0) <= weighted <= amount
