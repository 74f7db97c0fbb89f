"""A local Tryton (trytond on SQLite) for developers, tests and the writeback benchmark.

`build_template` makes a Tryton database once: the modules a sale needs (party, product,
sale, stock and their dependencies), a company in EUR with USD available, and the admin
user working in it. `LocalTryton` serves a copy of it with `trytond` on a loopback port.
Building takes about 20 s, so it is done once per directory and kept (a marker file says it
finished, for this trytond version); a copy and a server start take about a second.

Needs the ``tryton`` extra (``pip install 'erpgraph[tryton]'``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType

import httpx

DATABASE = "erpgraph"
USER = "admin"
MODULES = ("party", "product", "sale", "stock")
COMPANY_CURRENCY = "EUR"
# code, name, symbol; rates against the company's currency, so a sale in USD is priced.
CURRENCIES = (("EUR", "Euro", "€", Decimal(1)), ("USD", "US Dollar", "$", Decimal("1.08")))
_RATES_FROM = date(2000, 1, 1)
_MARKER = "template.ready"
_PASSWORD_FILE = "admin.password"
_STARTUP_TIMEOUT_S = 60.0


class TrytonLocalError(RuntimeError):
    """trytond could not be set up or started; the message ends with its output."""


def is_built(directory: Path) -> bool:
    """Whether ``build_template(directory)`` has nothing left to do."""
    marker = directory / _MARKER
    return marker.is_file() and marker.read_text() == _stamp() and (directory / f"{DATABASE}.sqlite").is_file()


def build_template(directory: Path) -> Path:
    """The template database file in ``directory``, built unless it is there already.

    The admin password is in ``admin.password`` next to it. A build that stops half way
    leaves no marker, so the next call starts over.
    """
    directory = directory.resolve()
    database = directory / f"{DATABASE}.sqlite"
    marker = directory / _MARKER
    if is_built(directory):
        return database
    directory.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    database.unlink(missing_ok=True)
    database.touch()  # trytond's SQLite backend opens existing files only
    password_file = directory / _PASSWORD_FILE
    password_file.write_text(secrets.token_urlsafe(16) + "\n")
    password_file.chmod(0o600)
    config = _write_config(directory, port=None)
    _run(
        "activate the modules",
        [sys.executable, "-m", "trytond.cli.admin", "-c", str(config), "-d", DATABASE,
         "-u", *MODULES, "--activate-dependencies", "--email", "admin@localhost"],
        {"TRYTONPASSFILE": str(password_file)},
    )
    _run("create the company", [sys.executable, "-m", "erpgraph.tryton_local", str(config)], _python_path())
    marker.write_text(_stamp())
    return database


class LocalTryton:
    """trytond serving ``directory/erpgraph.sqlite``, a copy of the template unless it is there.

    A context manager (start, then stop); ``stop()`` and ``start()`` also take it down and
    bring it back on the same port, with the same data.
    """

    def __init__(self, template: Path, directory: Path, port: int | None = None) -> None:
        self.directory = directory.resolve()
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = DATABASE
        self.user = USER
        if not self.database_file.is_file():
            self.directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.parent / _PASSWORD_FILE, self.directory / _PASSWORD_FILE)
            shutil.copyfile(template, self.database_file)
        self.password = (self.directory / _PASSWORD_FILE).read_text().strip()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def database_file(self) -> Path:
        return self.directory / f"{DATABASE}.sqlite"

    @property
    def environment(self) -> dict[str, str]:
        """The settings that point erpgraph at this server."""
        return {
            "ERPGRAPH_TRYTON_URL": self.url,
            "ERPGRAPH_TRYTON_DATABASE": self.database,
            "ERPGRAPH_TRYTON_USER": self.user,
            "ERPGRAPH_TRYTON_PASSWORD": self.password,
        }

    def start(self) -> None:
        """Run trytond and return once it answers."""
        if self._process is not None:
            return
        config = _write_config(self.directory, port=self.port)
        log = (self.directory / "trytond.log").open("ab")
        with log:
            # -d loads the database's modules before listening: the first call is not slow
            self._process = subprocess.Popen(
                [sys.executable, "-m", "trytond.cli", "-c", str(config), "-d", DATABASE],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        self._wait_until_answering()

    def stop(self) -> None:
        """Stop trytond (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def run_forever(self) -> int:
        """Wait for trytond to end (Ctrl-C stops it); its exit status."""
        assert self._process is not None
        return self._process.wait()

    def __enter__(self) -> LocalTryton:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _wait_until_answering(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        version = {"id": 0, "method": "common.server.version", "params": []}
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise TrytonLocalError(f"trytond exited at start:\n{_tail(self.directory / 'trytond.log')}")
            try:
                if httpx.post(f"{self.url}/rpc/", json=version, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TrytonLocalError(f"trytond did not answer on {self.url} within {_STARTUP_TIMEOUT_S:.0f} s")


def _stamp() -> str:
    """What the template was built with: another trytond needs another build."""
    try:
        trytond = version("trytond")
    except PackageNotFoundError:
        raise TrytonLocalError("trytond is not installed: pip install 'erpgraph[tryton]'") from None
    return f"trytond {trytond}; modules {' '.join(MODULES)}\n"


def _write_config(directory: Path, port: int | None) -> Path:
    config = directory / "trytond.conf"
    lines = ["[database]", "uri = sqlite://", f"path = {directory}"]
    if port is not None:
        lines += ["[web]", f"listen = 127.0.0.1:{port}"]
    config.write_text("\n".join(lines) + "\n")
    return config


def _run(step: str, command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise TrytonLocalError(f"trytond could not {step}:\n" + "\n".join(output[-20:]))


def _python_path() -> dict[str, str]:
    """PYTHONPATH that finds this package, installed or not (``python -m erpgraph.tryton_local``)."""
    source = str(Path(__file__).resolve().parents[1])
    return {"PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _set_up_company(config: str) -> None:
    """The company and the admin's preferences, in a fresh process (proteus loads trytond in it)."""
    from proteus import Model
    from proteus import config as proteus_config

    proteus_config.set_trytond(database=DATABASE, config_file=config)
    Currency = Model.get("currency.currency")
    currencies = {}
    for code, name, symbol, rate in CURRENCIES:
        currency = Currency(name=name, code=code, symbol=symbol, digits=2, rounding=Decimal("0.01"))
        currency.rates.new(date=_RATES_FROM, rate=rate)
        currency.save()
        currencies[code] = currency
    Party = Model.get("party.party")
    party = Party(name="erpgraph local company")
    party.save()
    Company = Model.get("company.company")
    company = Company(party=party, currency=currencies[COMPANY_CURRENCY])
    company.save()
    User = Model.get("res.user")
    (admin,) = User.find([("login", "=", USER)])
    admin.companies.append(Company(company.id))
    admin.company = company
    admin.save()


if __name__ == "__main__":
    _set_up_company(sys.argv[1])
