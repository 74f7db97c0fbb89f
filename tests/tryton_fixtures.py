"""Fixtures for tests against a real trytond: the template database once per session, then a
fresh copy served on a free port for each test (``tryton``) and a connector to it.

The template takes about 20 s to build. Set ERPGRAPH_TEST_TRYTON_DIR to a directory to keep it
between runs (it is rebuilt when trytond's version changes).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from domain.integration.erp.tryton import TrytonConnector
from erpgraph.tryton_local import LocalTryton, build_template


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get("ERPGRAPH_TEST_TRYTON_DIR")
    return build_template(Path(kept) if kept else tmp_path_factory.mktemp("tryton-template"))


@pytest.fixture
def tryton(tryton_template: Path, tmp_path: Path) -> Iterator[LocalTryton]:
    """A running trytond with a database of its own (``stop()``/``start()`` take it down and up)."""
    with LocalTryton(tryton_template, tmp_path / "tryton") as server:
        yield server


@pytest.fixture
async def tryton_connector(tryton: LocalTryton) -> AsyncIterator[TrytonConnector]:
    connector = TrytonConnector(tryton.url, tryton.database, tryton.user, tryton.password, timeout_s=10)
    yield connector
    await connector.aclose()
