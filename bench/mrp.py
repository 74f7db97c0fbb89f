"""Whole-MRP-job benchmark: load + plan + save (with pegging) on PostgreSQL, and the COPY floor.

    .venv/bin/python bench/mrp.py [--items 20000 200000] [--seed 7] [--keep-db] [--fk-options]

Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise. For each N it
creates a scratch database ``erpgraph_bench_mrp_<N>`` (dropped first if it exists),
migrates it and writes the catalogue of ``bench/mrp_plan.py`` (same generator, same
seed, so both benches plan the same items) into the real tables with COPY (see
``bench/mrp_seed.py``), then VACUUM ANALYZE.

Then, each in a fresh process so its peak RSS is its own:

- run 1 and run 2 of the whole job as the worker does it (``start_run``, claim, a
  heartbeat, ``workers.mrp.execute_run`` with progress stored and published, finish);
  run 2 also deletes run 1's planned orders and pegging, the steady state;
- the planning module alone (``plan()`` on inputs loaded the way the job loads them).

Last, the floor (``bench/mrp_floor.py``): the load queries as COPY alone, and run 2's
rows written back with COPY alone into tables like the real ones; with ``--fk-options``
also the save's database work as migrated and with the plan tables' former foreign
keys put back, each rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import asyncpg_dsn, servers, with_database
from mrp_floor import Floor, Option, copy_floor, fk_options
from mrp_plan import HORIZON, START
from mrp_seed import Seeded, seed

FORECAST_MIN = 50
TARGETS = {20_000: (10.0, None), 200_000: (90.0, 4.0)}  # whole job s, peak GiB


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ------------------------------------------------------------------- child processes


async def child_job(url: str, redis_url: str) -> dict[str, Any]:
    """One whole job, as ``workers.mrp.run_mrp`` does it, with a timestamp per progress report."""
    from redis.asyncio import Redis

    from domain.jobs import services as jobs
    from domain.jobs.services import JobState
    from domain.planning.services import RunRequest, start_run
    from domain.shared.db import make_engine, make_sessionmaker
    from workers.jobs import Reporter
    from workers.mrp import execute_run
    from workers.outbox import RelayConfig

    engine = make_engine(url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    redis = Redis.from_url(redis_url)
    try:
        async with sessionmaker.begin() as session:
            started = await start_run(
                session, RunRequest(START, HORIZON, FORECAST_MIN), today=START, actor="bench", stale_after_s=600,
                queue_name="arq:queue:bench-mrp",  # nothing relays it: the bench runs the job itself
            )
        job_id = started.job.id
        gc.collect()
        baseline = current_rss_mib()
        began = time.perf_counter()
        async with sessionmaker.begin() as session:
            claimed = await jobs.claim(session, job_id)
        assert claimed is not None
        reporter = Reporter(sessionmaker, redis, RelayConfig().channel, job_id)
        await reporter.publish(JobState.of(claimed))
        heartbeat = asyncio.create_task(reporter.heartbeat())
        marks: list[tuple[float, float, str, float]] = []

        async def progress(fraction: float, message: str) -> None:
            marks.append((time.perf_counter() - began, fraction, message, current_rss_mib()))
            await reporter(fraction, message)

        try:
            figures = await execute_run(asyncpg_dsn(url), sessionmaker, job_id, progress)
        finally:
            heartbeat.cancel()
        ran = time.perf_counter() - began
        async with sessionmaker.begin() as session:
            finished = await jobs.finish(session, job_id, message="bench")
        assert finished is not None and finished.status == "SUCCEEDED"
        total = time.perf_counter() - began
    finally:
        await redis.aclose()
        await engine.dispose()
    return {"figures": figures, "marks": marks, "ran": ran, "total": total,
            "baseline_mib": baseline, "peak_mib": rss_mib()}


async def child_plan(url: str) -> dict[str, Any]:
    """The planning module alone, on inputs loaded the way the job loads them."""
    from domain.planning import plan
    from domain.planning import run as planning

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        began = time.perf_counter()
        inputs = await planning.load(conn, START, FORECAST_MIN)
        loaded = time.perf_counter() - began
    finally:
        await conn.close()
    gc.collect()
    before = rss_mib()
    began = time.perf_counter()
    result = plan(inputs.items, inputs.demands, inputs.receipts, START, HORIZON)
    elapsed = time.perf_counter() - began
    sources: dict[str, int] = defaultdict(int)
    for demand in inputs.demands:
        sources[demand.source] += 1
    return {
        "items": len(inputs.items), "bom_lines": sum(len(item.bom) for item in inputs.items),
        "demands": dict(sources), "receipts": len(inputs.receipts), "load": loaded, "plan": elapsed,
        "planned_orders": len(result.planned_orders), "pegs": sum(len(o.pegging) for o in result.planned_orders),
        "messages": len(result.messages), "before_mib": before, "peak_mib": rss_mib(),
    }


def in_child(kind: str, url: str, redis_url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--redis", redis_url],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- report


def phases(job: dict[str, Any]) -> dict[str, float]:
    """Seconds per phase, from the progress marks and the job's own timings (workers.mrp, run.write_plan)."""
    at = {round(fraction, 2): elapsed for elapsed, fraction, _, _ in job["marks"]}
    seconds = job["figures"]["seconds"]
    ran = job["ran"]
    return {
        "claim": at[0.02],
        "load": at[0.25] - at[0.02],
        "plan, then wait for the replacement": at[0.6] - at[0.25],
        "  plan (module, in a thread)": seconds["plan"],
        "  replace earlier plan (server, meanwhile)": seconds["replace"],
        "  waited for it after planning": seconds["replaceAfterPlan"],
        "save (write + commit)": ran - at[0.6],
        "  reserve ids": at[0.75] - at[0.6],
        "  COPY planned orders": at[0.85] - at[0.75],
        "  COPY pegging": at[0.95] - at[0.85],
        "  COPY messages, run row, commit": ran - at[0.95],
        "finish": job["total"] - ran,
    }


def report(n: int, seeded: Seeded, jobs: list[dict[str, Any]], alone: dict[str, Any], floor: Floor) -> None:
    demands = alone["demands"]
    print(f"\n=== MRP job, N = {n:,} items (start {START}, horizon {HORIZON} days, forecast >= {FORECAST_MIN}%) ===")
    print(f"seeded in {seeded.seconds:.1f} s: {seeded.items:,} items, {seeded.bom_lines:,} BOM lines, "
          f"{seeded.sales_lines:,} open sales lines, {seeded.forecast_lines:,} forecast lines, "
          f"{seeded.receipts:,} open PO lines, {seeded.skipped_rows:,} rows planning skips or only sums")
    print(f"rows read by load: items {alone['items']:,} | BOM lines {alone['bom_lines']:,} | demands "
          f"{sum(demands.values()):,} ({', '.join(f'{k} {v:,}' for k, v in sorted(demands.items()))}) | "
          f"receipts {alone['receipts']:,}")
    rows = [phases(job) for job in jobs]
    print(f"\n{'':36}{'run 1 (empty)':>16}{'run 2 (replaces 1)':>20}")
    for key in rows[0]:
        print(f"{key:36}" + "".join(f"{row[key]:>15.2f}s" + (" " * 4 if i == 0 else "") for i, row in enumerate(rows)))
    print(f"{'whole job (claim .. finish)':36}" + f"{jobs[0]['total']:>15.2f}s    {jobs[1]['total']:>15.2f}s")
    for label, key in (("planned orders written", "plannedOrders"), ("pegs written", "peggings"),
                       ("messages written", "messages"), ("earlier planned orders deleted", "replaced")):
        print(f"{label:36}" + f"{jobs[0]['figures'][key]:>16,}    {jobs[1]['figures'][key]:>16,}")
    print(f"{'peak RSS of the job process':36}{jobs[0]['peak_mib']:>12,.0f} MiB    {jobs[1]['peak_mib']:>12,.0f} MiB"
          f"   (process before the job: {jobs[0]['baseline_mib']:,.0f} MiB)")
    print("RSS at progress reports (run 2): " + ", ".join(
        f"{fraction:.2f}: {mib:,.0f}" for _, fraction, _, mib in jobs[1]["marks"]) + " MiB")
    print(f"\nplanning module alone (own process, job-loaded inputs): {alone['plan']:.2f} s -> "
          f"{alone['planned_orders']:,} planned orders, {alone['pegs']:,} pegs, {alone['messages']:,} messages; "
          f"peak RSS {alone['peak_mib']:,.0f} MiB ({alone['before_mib']:,.0f} MiB before plan)")
    print(f"\nCOPY floor: read {floor.read_rows:,} rows ({floor.read_mib:,.0f} MiB, binary) with the load "
          f"queries as COPY TO STDOUT: {floor.read_s:.2f} s")
    print(f"            write {', '.join(f'{t} {floor.written[t]:,} rows {s:.2f} s' for t, s in floor.write_s.items())}"
          f" = {floor.write_total:.2f} s (same indexes, checks, foreign keys; {floor.write_no_fk_s:.2f} s without"
          " the foreign keys)")
    print(f"            read + write = {floor.read_s + floor.write_total:.2f} s "
          f"(the job's save also deletes the previous run's rows)")
    limit_s, limit_gib = TARGETS.get(n, (None, None))
    if limit_s is not None:
        worst = max(job["total"] for job in jobs)
        verdict = f"whole job <= {limit_s:.0f} s: {'met' if worst <= limit_s else 'NOT met'} (worst {worst:.1f} s)"
        if limit_gib is not None:
            peak = max(job["peak_mib"] for job in jobs) / 1024
            verdict += f"; peak <= {limit_gib:.0f} GiB: {'met' if peak <= limit_gib else 'NOT met'} ({peak:.2f} GiB)"
        print(f"target: {verdict}")


def report_options(options: list[Option]) -> None:
    print("\nthe save's database work (replace run 2 by a copy of itself, in sequence), as migrated and with "
          "former foreign keys put back:")
    for option in options:
        print(f"  {option.name:60} {option.seconds:7.2f} s  ("
              + ", ".join(f"{label} {s:.2f}" for label, s in option.steps.items()) + ")")


async def bench(server_url: str, redis_url: str, n: int, seed_value: int, keep: bool, options: bool) -> None:
    name = f"erpgraph_bench_mrp_{n}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server_url, name)
        try:
            from erpgraph.migrate import upgrade

            await asyncio.to_thread(upgrade, url)
            seeded = await seed(asyncpg_dsn(url), n, seed_value)
            gc.collect()
            jobs = [await asyncio.to_thread(in_child, "job", url, redis_url) for _ in range(2)]
            alone = await asyncio.to_thread(in_child, "plan", url, redis_url)
            last_run = jobs[1]["figures"]["runId"]
            floor = await copy_floor(asyncpg_dsn(url), last_run, FORECAST_MIN)
            report(n, seeded, jobs, alone, floor)
            if options:
                report_options(await fk_options(asyncpg_dsn(url), last_run))
        finally:
            if not keep:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                print(f"kept database {name}")
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch databases in place")
    parser.add_argument("--fk-options", action="store_true",
                        help="also time the save's database work with the former foreign keys (rolled back)")
    parser.add_argument("--child", choices=("job", "plan"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child_job(args.url, args.redis) if args.child == "job" else child_plan(args.url))
        print(json.dumps(result, default=str))
        return
    with servers() as (server_url, redis_url):
        for n in args.items:
            asyncio.run(bench(server_url, redis_url, n, args.seed, args.keep_db, args.fk_options))


if __name__ == "__main__":
    main()
