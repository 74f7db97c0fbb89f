"""PostGraphile 4 (Node) over the bench database: the yardstick issue 14 sets for reads.

Installed with npm into `.erpgraph/bench-postgraphile` on first use (reused after),
started with its CLI in one process against schema `public`, no watch, no mutations.
`--simple-collections both` gives Relay connections for the pages and plain lists for
nested relations, the closest match to erpgraph's schema.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator

import asyncpg
from common import ROOT, asyncpg_dsn, free_port, spawned_process, wait_ready

SCRATCH = ROOT / ".erpgraph" / "bench-postgraphile"
CLI = SCRATCH / "node_modules" / ".bin" / "postgraphile"

# Computed columns (PostGraphile exposes `<table>_<name>(row)` as field `name`) for the
# values erpgraph computes: on hand and available over an item's stock balances.
COMPUTED_COLUMNS = """
CREATE FUNCTION public.items_on_hand(i public.items) RETURNS numeric LANGUAGE sql STABLE AS
  $$ SELECT coalesce(sum(s.on_hand), 0) FROM public.stock_balances s WHERE s.item_id = i.id $$;
CREATE FUNCTION public.items_available(i public.items) RETURNS numeric LANGUAGE sql STABLE AS
  $$ SELECT coalesce(sum(s.on_hand - s.reserved), 0) FROM public.stock_balances s WHERE s.item_id = i.id $$;
CREATE FUNCTION public.stock_balances_available(s public.stock_balances) RETURNS numeric
  LANGUAGE sql STABLE AS $$ SELECT s.on_hand - s.reserved $$;
"""
DROP_COMPUTED_COLUMNS = """
DROP FUNCTION IF EXISTS public.items_on_hand(public.items), public.items_available(public.items),
  public.stock_balances_available(public.stock_balances);
"""

def missing() -> str | None:
    """Why PostGraphile cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found (install Node.js 18+ with npm)"
    return None


def install() -> None:
    """`npm install postgraphile@4` into the scratch folder unless already there."""
    if CLI.exists():
        return
    SCRATCH.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "postgraphile@4"],
                   cwd=SCRATCH, check=True, stdin=subprocess.DEVNULL)


@contextlib.asynccontextmanager
async def postgraphile(database_url: str) -> AsyncIterator[str]:
    """PostGraphile serving the database (computed columns added, dropped at the end):
    its GraphQL endpoint."""
    install()
    dsn = asyncpg_dsn(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(COMPUTED_COLUMNS)
        port = free_port()
        command = [str(CLI), "--connection", dsn, "--schema", "public", "--port", str(port),
                   "--host", "127.0.0.1", "--disable-default-mutations", "--simple-collections", "both",
                   "--legacy-relations", "omit", "--disable-query-log", "--no-setof-functions-contain-nulls"]
        with spawned_process(command, os.environ | {"NODE_ENV": "production"}, "postgraphile",
                             cwd=SCRATCH) as server:
            url = f"http://127.0.0.1:{port}/graphql"
            await wait_ready(server, lambda client: client.post(url, json={"query": "{ __typename }"}), 60)
            yield url
    finally:
        await conn.execute(DROP_COMPUTED_COLUMNS)
        await conn.close()
