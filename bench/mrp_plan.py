"""Planning-module benchmark: the pure MRP netting alone, without database or jobs.

    .venv/bin/python bench/mrp_plan.py [--items 20000 200000] [--seed 7] [--tracemalloc]

Generates the catalogue of issue 4: N items over 7 BOM levels, 4–6 components per
parent (mostly from the next level, some from deeper ones, so components are shared and
used at several levels), 5 demand lines per finished item, a scheduled receipt on 20% of
items, mixed lot sizing. Prints the time of ``plan()`` and the peak memory: the process's
peak RSS (``ru_maxrss``, which includes the generated input) and, with ``--tracemalloc``,
the peak of allocations during ``plan()`` alone (tracemalloc makes the run ~2× slower, so
its time is not the figure to quote).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal

from domain.planning import BomComponent, Demand, PlanItem, Receipt, plan

LEVELS = 7
WEIGHTS = (1, 2, 3, 4, 5, 6, 7)  # items per level grow towards purchased parts
START = date(2026, 3, 2)
HORIZON = 180


def catalogue(n: int, seed: int) -> tuple[list[PlanItem], list[Demand], list[Receipt]]:
    rng = random.Random(seed)
    sizes = [n * w // sum(WEIGHTS) for w in WEIGHTS]
    sizes[-1] += n - sum(sizes)
    levels: list[range] = []
    first = 1
    for size in sizes:
        levels.append(range(first, first + size))
        first += size
    quantities = [Decimal(q) for q in ("1", "1", "2", "3", "4", "0.5")]
    line_scrap = [Decimal(0)] * 9 + [Decimal("0.02")]
    items: list[PlanItem] = []
    for level, ids in enumerate(levels):
        for item_id in ids:
            bom: tuple[BomComponent, ...] = ()
            if level < LEVELS - 1:
                chosen: set[int] = set()
                for _ in range(rng.randint(4, 6)):
                    deeper = level + 1 if rng.random() < 0.8 else rng.randint(level + 1, LEVELS - 1)
                    chosen.add(rng.choice(levels[deeper]))
                bom = tuple(BomComponent(c, rng.choice(quantities), rng.choice(line_scrap)) for c in sorted(chosen))
            rule = rng.choice(("LOT_FOR_LOT", "LOT_FOR_LOT", "FIXED_ORDER_QUANTITY", "MIN_MULTIPLE"))
            items.append(PlanItem(
                id=item_id,
                procurement="BUY" if not bom else ("SUBCONTRACT" if rng.random() < 0.05 else "MAKE"),
                lead_time_days=rng.randint(1, 10),
                safety_stock=Decimal(5) if rng.random() < 0.2 else Decimal(0),
                scrap_rate=Decimal("0.02") if rng.random() < 0.1 else Decimal(0),
                lot_sizing=rule,  # type: ignore[arg-type]
                fixed_lot_size=Decimal(rng.choice((10, 50, 100, 200))),
                min_order_quantity=Decimal(rng.choice((10, 25, 100))),
                lot_multiple=Decimal(rng.choice((5, 10, 25))),
                uom="pcs" if rng.random() < 0.8 else "kg",
                on_hand_available=Decimal(rng.randint(0, 200)),
                bom=bom,
                bom_output_quantity=Decimal(1),
                has_bom=bool(bom),
            ))
    demands = [
        Demand(item_id, START + timedelta(days=rng.randint(0, 89)), Decimal(rng.randint(1, 20)),
               "SALES_ORDER" if rng.random() < 0.7 else "FORECAST", f"D{item_id}-{k}")
        for item_id in levels[0] for k in range(5)
    ]
    receipts = [
        Receipt(item.id, START + timedelta(days=rng.randint(-3, 30)), Decimal(rng.randint(10, 300)))
        for item in items if rng.random() < 0.2
    ]
    return items, demands, receipts


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, seed: int, trace: bool) -> None:
    began = time.perf_counter()
    items, demands, receipts = catalogue(n, seed)
    generated = time.perf_counter() - began
    gc.collect()
    before = rss_mib()
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    result = plan(items, demands, receipts, START, HORIZON)
    elapsed = time.perf_counter() - began
    traced = ""
    if trace:
        traced = f", tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:,.0f} MiB during plan"
        tracemalloc.stop()
    pegs = sum(len(order.pegging) for order in result.planned_orders)
    lines = sum(len(item.bom) for item in items)
    print(f"items {n:,}: {lines:,} BOM lines, {len(demands):,} demands, {len(receipts):,} receipts "
          f"(generated in {generated:.1f} s)")
    print(f"  plan: {elapsed:.2f} s -> {len(result.planned_orders):,} planned orders, {pegs:,} pegs, "
          f"{len(result.messages):,} messages")
    print(f"  peak RSS {rss_mib():,.0f} MiB (before plan {before:,.0f} MiB){traced}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    for n in args.items:
        run(n, args.seed, args.tracemalloc)


if __name__ == "__main__":
    main()
