"""The sales pipeline's arithmetic: pure functions over plain data.

Default probabilities, amounts, weighted amounts and the funnel (count, amounts and
conversion rate per stage); the commands (``pipeline``) and reads
(``pipeline_reads``) load rows, call these and save.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.crm.models import STAGES
from domain.shared.money import cents

DEFAULT_PROBABILITY: Mapping[str, int] = {
    "PROSPECTING": 10, "QUALIFICATION": 20, "PROPOSAL": 50, "NEGOTIATION": 75, "WON": 100, "LOST": 0,
}
# Final stages: an opportunity leaves them only by being reopened.
CLOSED = frozenset({"WON", "LOST"})



def weighted_amount(amount: Decimal, probability: int) -> Decimal:
    return cents(amount * probability / Decimal(100))


def lines_amount(lines: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Sum of (quantity, unit price) lines, each rounded half-up to cents."""
    return sum((cents(quantity * price) for quantity, price in lines), Decimal("0.00"))


def converted(history: Sequence[str], stage: str) -> bool | None:
    """Whether a deal that ever reached ``stage`` went on to WON and is WON now.

    None when the history never reached ``stage``. A deal that was WON and then
    reopened and LOST is not converted; one still open is not (yet) converted.
    """
    if stage not in history:
        return None
    return history[-1] == "WON"


@dataclass(frozen=True)
class Deal:
    stage: str
    amount: Decimal
    probability: int


@dataclass(frozen=True)
class StageSummary:
    stage: str
    count: int
    amount: Decimal
    weighted_amount: Decimal
    conversion_rate: float | None


def conversion_rate(histories: Iterable[Sequence[str]], stage: str) -> float | None:
    """Share of the deals that ever reached ``stage`` and are WON now; None when none reached it."""
    outcomes = [c for c in (converted(h, stage) for h in histories) if c is not None]
    return sum(outcomes) / len(outcomes) if outcomes else None


def summarize_pipeline(deals: Iterable[Deal], histories: Iterable[Sequence[str]]) -> list[StageSummary]:
    """One row per stage in funnel order: current deals, amounts, and the conversion rate."""
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    weighted: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for deal in deals:
        count[deal.stage] += 1
        amount[deal.stage] += deal.amount
        weighted[deal.stage] += weighted_amount(deal.amount, deal.probability)
    stories = [tuple(h) for h in histories]
    return [
        StageSummary(stage, count[stage], cents(amount[stage]), weighted[stage],
                     conversion_rate(stories, stage))
        for stage in STAGES
    ]
