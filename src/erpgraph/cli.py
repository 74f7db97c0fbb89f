"""The `erpgraph` command: dev, serve, worker, migrate, token create/list/revoke, export-schema,
import and export (CSV files), tryton-local."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from erpgraph.server import StartupError

Handler = Callable[[argparse.Namespace], int]
ENV_VARIABLE = "ERPGRAPH_ENV"
# What `serve` and `worker` run as when ERPGRAPH_ENV is unset: no GraphiQL, no introspection,
# no suggestions, errors masked. `erpgraph dev` stays in development.
PRODUCTION = "production"


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        code = handler(args)
    except StartupError as exc:
        print(f"erpgraph: {exc}", file=sys.stderr)
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="erpgraph", description="One GraphQL graph over CRM and ERP data."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser(
        "dev", help="run API and worker, with embedded PostgreSQL/Redis when no URLs are set"
    )
    _listen_options(dev)
    dev.add_argument("--no-demo", action="store_true", help="do not load the demo company")
    dev.set_defaults(handler=_dev)

    serve = commands.add_parser(
        "serve", help="run the API (production unless ERPGRAPH_ENV is set; needs DATABASE_URL, REDIS_URL)"
    )
    _listen_options(serve)
    serve.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run an arq worker (production unless ERPGRAPH_ENV is set; needs DATABASE_URL, REDIS_URL)"
    )
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    migrate.set_defaults(handler=_migrate)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    create = token_commands.add_parser("create", help="create a token and print it")
    create.add_argument("--name", required=True, help="who or what uses the token")
    # Checked by hand, not with choices=, so a bad role is one line, not usage text.
    create.add_argument("--role", required=True, help="admin, sales, finance, production, planner or partner")
    create.add_argument(
        "--partner", help="the integration a partner token is bound to (required for --role partner)"
    )
    create.set_defaults(handler=_token_create)
    listing = token_commands.add_parser("list", help="list tokens: name, role, prefix, created, revoked")
    listing.set_defaults(handler=_token_list)
    revoke = token_commands.add_parser(
        "revoke", help="revoke a token at once, in every API process (its websockets close with 4403)"
    )
    revoke.add_argument("token", metavar="NAME|PREFIX",
                        help="the token's exact name, or its first characters as `token list` shows them")
    revoke.set_defaults(handler=_token_revoke)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", "-o", type=Path, default=Path("schema.graphql"),
                        help="file to write (default: schema.graphql)")
    export.set_defaults(handler=_export_schema)
    _bulk_commands(commands)

    tryton = commands.add_parser(
        "tryton-local", help="run a local Tryton to write back to (docs/erp-writeback.md; the tryton extra)"
    )
    tryton.add_argument("--dir", type=Path, default=None,
                        help="its data (default: ERPGRAPH_DATA_DIR/tryton, that is .erpgraph/tryton)")
    # not 8000: that is where `erpgraph dev` listens
    tryton.add_argument("--port", type=_port, default=8001, help="TCP port on 127.0.0.1 (default 8001)")
    tryton.set_defaults(handler=_tryton_local)
    return parser


def _bulk_commands(commands: Any) -> None:
    from domain.integration.bulk import BATCH_SIZE, EXPORT_KINDS, IMPORT_KINDS

    bulk_import = commands.add_parser(
        "import", help="import a CSV file (docs/bulk-files.md): valid rows applied, a report of the others"
    )
    bulk_import.add_argument("kind", choices=IMPORT_KINDS, metavar="|".join(IMPORT_KINDS))
    bulk_import.add_argument("file", type=Path, metavar="FILE.csv")
    bulk_import.add_argument("--errors", type=Path, metavar="REPORT.csv",
                             help="also write the refused rows (row, column, reason) to this file")
    bulk_import.add_argument("--batch-size", type=_positive, default=BATCH_SIZE,
                             help=f"rows per transaction (default {BATCH_SIZE})")
    bulk_import.set_defaults(handler=_import)
    bulk_export = commands.add_parser("export", help="export to a CSV file (docs/bulk-files.md)")
    bulk_export.add_argument("kind", choices=EXPORT_KINDS, metavar="|".join(EXPORT_KINDS))
    bulk_export.add_argument("file", type=Path, metavar="FILE.csv")
    bulk_export.set_defaults(handler=_export)


def _listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else -1
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value!r}")
    return port


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {value!r}")
    return int(value)


def _settings(default_env: str | None = None) -> Any:
    """The configuration; ``default_env`` applies when ERPGRAPH_ENV is unset (or empty).

    It is written to the environment, so uvicorn's worker processes read the same.
    """
    from pydantic import ValidationError

    from erpgraph.settings import Settings

    if default_env is not None and not os.environ.get(ENV_VARIABLE):
        os.environ[ENV_VARIABLE] = default_env
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        raise StartupError(f"invalid configuration: {name}: {error['msg']}", code=2) from None


def _dev(args: argparse.Namespace) -> int:
    from erpgraph.dev import run

    return run(_settings(), host=args.host, port=args.port, demo=not args.no_demo)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from erpgraph.server import preflight

    settings = _settings(default_env=PRODUCTION)
    asyncio.run(preflight(settings))
    # A supervisor stops us with SIGTERM; let it end as cleanly (exit 0) as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    uvicorn.run(
        "erpgraph.server:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
        access_log=settings.access_log,
    )
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from erpgraph.server import preflight
    from workers.settings import worker_settings

    settings = _settings(default_env=PRODUCTION)
    asyncio.run(preflight(settings))
    run_worker(worker_settings(settings))  # handles SIGINT/SIGTERM itself
    return 0


@contextlib.contextmanager
def _database(settings: Any) -> Iterator[str]:
    """DATABASE_URL, or the embedded PostgreSQL in the data dir (as `erpgraph dev` uses)."""
    from erpgraph.embedded import embedded_services

    if settings.database_url:
        yield settings.database_url
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_services(settings.data_dir, None, None, redis=False) as services:
        assert services.database_url
        yield services.database_url


def _migrate(args: argparse.Namespace) -> int:
    from erpgraph.migrate import head_revision, upgrade
    from erpgraph.server import check_database, connection_errors, reason, shown

    settings = _settings()
    with _database(settings) as url:
        asyncio.run(check_database(url, migrated=False))
        try:
            upgrade(url)
        except connection_errors() as exc:
            raise StartupError(f"migration failed on {shown(url)}: {reason(exc)}") from None
    where = shown(settings.database_url) if settings.database_url else "embedded database"
    print(f"{where} is at revision {head_revision()}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from domain.identity.scopes import PARTNER_ROLES, ROLES

    if args.role not in ROLES:
        raise StartupError(f"unknown role {args.role!r}; choose one of {', '.join(ROLES)}", code=2)
    # checked before the database too: a partner token is bound to one integration
    if (args.partner is None) == (args.role in PARTNER_ROLES):
        wanted = "needs --partner NAME" if args.partner is None else "takes no --partner"
        raise StartupError(f"a token of role {args.role!r} {wanted}", code=2)
    settings = _settings()
    with _database(settings) as url:
        token = asyncio.run(_create_token(url, args.name, args.role, args.partner))
    print(token)
    return 0


async def _create_token(url: str, name: str, role: str, partner: str | None = None) -> str:
    from domain.identity.services import create_token
    from domain.shared.db import make_engine, make_sessionmaker
    from domain.shared.errors import DomainError
    from erpgraph.server import check_database

    await check_database(url)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            return await create_token(session, name, role, partner)
    except DomainError as exc:
        problem = exc.problems[0]
        field = ".".join(problem.field or ())
        raise StartupError(f"{field}: {problem.message}" if field else problem.message, code=2) from None
    finally:
        await engine.dispose()


def _token_list(args: argparse.Namespace) -> int:
    from domain.identity.services import list_tokens

    settings = _settings()
    with _database(settings) as url:
        tokens = asyncio.run(_in_transaction(url, list_tokens))
    print(token_table(tokens))
    return 0


def token_table(tokens: Sequence[Any]) -> str:
    """Plain aligned columns, one token a line (``-`` for what is not known or not set)."""
    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"

    rows = [("NAME", "ROLE", "PREFIX", "CREATED (UTC)", "REVOKED (UTC)")] + [
        (t.name, t.role, t.prefix or "-", when(t.created_at), when(t.revoked_at)) for t in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _token_revoke(args: argparse.Namespace) -> int:
    from domain.identity.services import revoke_token

    settings = _settings()
    with _database(settings) as url:
        revoked = asyncio.run(_in_transaction(url, revoke_token, args.token, "cli"))
    print(f"revoked {revoked.name} ({revoked.role}, {revoked.prefix or 'no prefix'})")
    return 0


async def _in_transaction(url: str, use_case: Callable[..., Any], *args: Any) -> Any:
    """Run ``use_case(session, *args)`` in one transaction; a domain error is one line, exit 1."""
    from domain.shared.db import make_engine, make_sessionmaker
    from domain.shared.errors import DomainError
    from erpgraph.server import check_database

    await check_database(url)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            return await use_case(session, *args)
    except DomainError as exc:
        raise StartupError(exc.problems[0].message, code=1) from None
    finally:
        await engine.dispose()


def _import(args: argparse.Namespace) -> int:
    """Exit 0 when every row was taken, 1 when some were refused (the report says which)."""
    from rich.console import Console

    from erpgraph.bulk import import_file, print_report

    if not args.file.is_file():
        raise StartupError(f"cannot read {args.file}: no such file", code=2)
    settings = _settings()
    with _database(settings) as url:
        report = asyncio.run(import_file(url, args.kind, args.file, batch_size=args.batch_size))
    print_report(report, Console(), args.errors)
    return 1 if report.errors else 0


def _export(args: argparse.Namespace) -> int:
    from erpgraph.bulk import export_file

    settings = _settings()
    with _database(settings) as url:
        written = asyncio.run(export_file(url, args.kind, args.file))
    print(f"wrote {written} {args.kind} rows to {args.file}", file=sys.stderr)
    return 0


def _tryton_local(args: argparse.Namespace) -> int:
    """Build the database once, then serve it until Ctrl-C (or SIGTERM)."""
    from erpgraph.tryton_local import LocalTryton, TrytonLocalError, build_template, is_built

    directory: Path = args.dir or _settings().data_dir / "tryton"
    template = directory / "template"
    try:
        if not is_built(template):
            print(f"building the Tryton database in {template} (about 20 s)", file=sys.stderr)
        server = LocalTryton(build_template(template), directory, port=args.port)
        server.start()
    except TrytonLocalError as exc:
        raise StartupError(str(exc)) from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"Tryton serves database {server.database!r} at {server.url} (data in {directory}); "
              "Ctrl-C stops it. Point erpgraph at it with:", file=sys.stderr)
        for name, value in server.environment.items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        status = server.run_forever()
    finally:
        server.stop()
    print(f"trytond ended with status {status}; its log: {directory / 'trytond.log'}", file=sys.stderr)
    return 1


def _export_schema(args: argparse.Namespace) -> int:
    from api.schema import schema

    output: Path = args.output
    try:
        output.write_text(schema.as_str() + "\n", encoding="utf-8")
    except OSError as exc:
        raise StartupError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    main()
