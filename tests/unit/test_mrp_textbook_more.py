"""A third published MRP problem: multi-level, a scheduled receipt, lots in multiples.

Jacobs & Chase, *Operations and Supply Chain Management* (McGraw-Hill), chapter "Material
Requirements Planning", end-of-chapter problem (same "six-level scheme" note as the
multi-level problem in ``test_mrp_textbook.py``; problem number not confirmed). Problem
text, checked against
  https://quizplus.com/quiz/147188-quiz-21-material-requirements-planning/questions/11337679-the-mrp-gross-requirements-for-item-a-are-shown-here-for-the
  http://www.solutioninn.com/one-unit-of-a-is-composed-of-two-units-of
"One unit of A is composed of two units of B and three units of C. Each B is composed of
one unit of F. C is made of one unit of D, one unit of E, and two units of F. Items A, B, C,
and D have 20, 50, 60, and 25 units of on-hand inventory, respectively. Items A, B, and C use
lot-for-lot (L4L) as their lot-sizing technique, while D, E, and F require multiples of 50,
100, and 100, respectively, to be purchased. B has scheduled receipts of 30 units in Period 1.
No other scheduled receipts exist. Lead times are one period for Items A, B, and D, and two
periods for Items C, E, and F. Gross requirements for A are 20 units in Period 1, 20 units in
Period 2, 60 units in Period 6, and 50 units in Period 8. Find the planned order releases for
all items."

The book's own answer was not reachable. A worked answer listing every planned order
release is published at
  https://www.edu.com/homework-helper/math/question/1098717/
(A: P1 20, P5 60, P7 50; B: P4 80, P6 100; C: P3 180, P5 150; D: P2 200, P4 150;
E: P1 200, P3 200; F: P1 400, P2 100, P3 300, P4 100), and working it by hand gives the same:
  A (on hand 20): P1 covered; P2 20, P6 60, P8 50 short → released a period earlier.
  B (2 per A; on hand 50 + 30 due P1): 40 in P1 → 40 left; 120 in P5 → 80; 100 in P7 → 100.
  C (3 per A; on hand 60): 60 in P1 → 0; 180 in P5, 150 in P7, released two periods earlier.
  D (1 per C; on hand 25; ×50): 180 in P3 → 155 short → 200 (45 left); 150 in P5 → 105 → 150.
  E (1 per C; ×100): 180 in P3 → 200 (20 left); 150 in P5 → 130 → 200.
  F (1 per B, 2 per C; ×100): 360 in P3 → 400 (40); 80 in P4 → 40 → 100 (60);
    300 in P5 → 240 → 300 (60); 100 in P6 → 40 → 100.
Periods are weeks here: period p is the day ``START + 7 × (p − 1)``. "Multiples of N" is
MIN_MULTIPLE with a lot multiple of N and no minimum. A component's gross requirement falls
in the period its parent's order is released, as in the book; the module puts it on the
parent's release day, and a scheduled receipt arrives before that day's demands.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from domain.planning import BomComponent, Demand, Plan, PlanItem, Receipt, plan

START = date(2026, 3, 2)
A, B, C, D_, E, F = 1, 2, 3, 4, 5, 6


def period(p: int) -> date:
    return START + timedelta(days=7 * (p - 1))


def multiples(item_id: int, lead_weeks: int, lot: int, on_hand: int = 0) -> PlanItem:
    return PlanItem(item_id, "BUY", 7 * lead_weeks, lot_sizing="MIN_MULTIPLE", lot_multiple=D(lot),
                    on_hand_available=D(on_hand))


ITEMS = [
    PlanItem(A, "MAKE", 7, on_hand_available=D(20), bom=(BomComponent(B, D(2)), BomComponent(C, D(3))),
             has_bom=True),
    PlanItem(B, "MAKE", 7, on_hand_available=D(50), bom=(BomComponent(F, D(1)),), has_bom=True),
    PlanItem(C, "MAKE", 14, on_hand_available=D(60),
             bom=(BomComponent(D_, D(1)), BomComponent(E, D(1)), BomComponent(F, D(2))), has_bom=True),
    multiples(D_, 1, 50, on_hand=25),
    multiples(E, 2, 100),
    multiples(F, 2, 100),
]
GROSS_A = {1: 20, 2: 20, 6: 60, 8: 50}


def releases(result: Plan, item_id: int) -> list[tuple[int, D, int]]:
    """(release period, quantity, due period) of each planned order of ``item_id``."""
    def number(day: date) -> int:
        weeks, rest = divmod((day - START).days, 7)
        assert rest == 0
        return weeks + 1

    return [(number(o.release_date), o.quantity, number(o.due_date))
            for o in result.planned_orders if o.item_id == item_id]


def test_jacobs_chase_multi_level_problem_with_multiples() -> None:
    demands = [Demand(A, period(p), D(q), "SALES_ORDER", f"P{p}") for p, q in GROSS_A.items()]
    result = plan(ITEMS, demands, [Receipt(B, period(1), D(30))], START, 8 * 7)

    assert releases(result, A) == [(1, D(20), 2), (5, D(60), 6), (7, D(50), 8)]
    assert releases(result, B) == [(4, D(80), 5), (6, D(100), 7)]
    assert releases(result, C) == [(3, D(180), 5), (5, D(150), 7)]
    assert releases(result, D_) == [(2, D(200), 3), (4, D(150), 5)]
    assert releases(result, E) == [(1, D(200), 3), (3, D(200), 5)]
    assert releases(result, F) == [(1, D(400), 3), (2, D(100), 4), (3, D(300), 5), (4, D(100), 6)]
    assert len(result.planned_orders) == 3 + 2 + 2 + 2 + 2 + 4
    assert result.messages == []  # no release falls before period 1

    # each lot is pegged to exactly its shortfall, so the surplus of one multiple covers the next need
    shortfalls = {(o.item_id, o.due_date): sum((p.quantity for p in o.pegging), D(0)) for o in result.planned_orders}
    assert [shortfalls[(D_, period(p))] for p in (3, 5)] == [D(155), D(105)]
    assert [shortfalls[(E, period(p))] for p in (3, 5)] == [D(180), D(130)]
    assert [shortfalls[(F, period(p))] for p in (3, 4, 5, 6)] == [D(360), D(40), D(240), D(40)]
    assert [shortfalls[(B, period(p))] for p in (5, 7)] == [D(80), D(100)]
