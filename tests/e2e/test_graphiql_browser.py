"""GraphiQL works offline in headless Chromium, authenticated by its token bar.

Every request that leaves 127.0.0.1 is aborted and recorded, so the page passes
only if all of its assets come from the app itself. Without Chromium or
Playwright the tests skip, except under CI, where they fail: run
``scripts/install-browser``.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
import pytest_asyncio

_IMPORT_ERROR: str | None = None
try:
    from playwright.async_api import (
        Browser,
        Page,
        Request,
        Route,
        WebSocketRoute,
        async_playwright,
        expect,
    )
except ImportError as exc:  # reported by the `browser` fixture
    _IMPORT_ERROR = str(exc)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
VIEWER_QUERY = "{ viewer { name } }"
TIMEOUT_MS = 20_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


@dataclass
class Watched:
    """A page plus what it tried to reach off-machine and the errors it threw."""

    page: Page
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def flag(self, url: str) -> None:
        if not _is_local(url) and url not in self.offsite:
            self.offsite.append(url)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if _IMPORT_ERROR is not None:
        _unavailable(f"playwright is not importable ({_IMPORT_ERROR}); run scripts/install-browser")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing; run scripts/install-browser")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def watched(browser: Browser) -> AsyncIterator[Watched]:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    seen = Watched(page)

    async def only_loopback(route: Route) -> None:
        if _is_local(route.request.url):
            await route.continue_()
        else:
            seen.flag(route.request.url)
            await route.abort("internetdisconnected")

    async def no_offsite_socket(ws: WebSocketRoute) -> None:
        seen.flag(ws.url)
        await ws.close()

    await context.route("**/*", only_loopback)
    await context.route_web_socket(lambda url: not _is_local(url), no_offsite_socket)
    context.on("request", lambda request: seen.flag(request.url))
    page.on("pageerror", lambda err: seen.errors.append(str(err)))
    try:
        yield seen
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def viewer_name(live_server: str, admin_token: str) -> str:
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={"query": VIEWER_QUERY},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
    response.raise_for_status()
    name = response.json()["data"]["viewer"]["name"]
    assert isinstance(name, str) and name
    return name


async def _run_viewer_query(page: Page) -> None:
    await page.locator(QUERY_EDITOR).evaluate("(cm, q) => cm.CodeMirror.setValue(q)", VIEWER_QUERY)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and "viewer" in (r.request.post_data or "")
    ):
        await page.locator(".graphiql-execute-button").click()


async def test_graphiql_loads_offline_and_runs_query_with_pasted_token(
    watched: Watched, live_server: str, admin_token: str, viewer_name: str
) -> None:
    page = watched.page
    await page.goto(f"{live_server}/graphql", wait_until="load")
    assert watched.offsite == [], "the page tried to leave the machine"
    await expect(page).to_have_title("erpgraph GraphiQL")
    await expect(page.locator(QUERY_EDITOR)).to_be_visible()

    # Setting the token must re-run introspection with it.
    def authed_introspection(request: Request) -> bool:
        return (
            request.method == "POST"
            and "IntrospectionQuery" in (request.post_data or "")
            and request.headers.get("authorization") == f"Bearer {admin_token}"
        )

    async with page.expect_request(authed_introspection):
        await page.locator("#erpgraph-token").fill(admin_token)

    await _run_viewer_query(page)
    await expect(page.locator(".graphiql-response")).to_contain_text(viewer_name)

    stored = await page.evaluate("() => localStorage.getItem('erpgraph:token')")
    assert stored == admin_token
    await page.reload(wait_until="load")
    await expect(page.locator("#erpgraph-token")).to_have_value(admin_token)

    assert watched.offsite == [], "the page tried to leave the machine"
    assert watched.errors == []


async def test_token_in_page_url_seeds_the_bar_and_leaves_the_url(
    watched: Watched, live_server: str, admin_token: str, viewer_name: str
) -> None:
    page = watched.page
    await page.goto(f"{live_server}/graphql?token={quote(admin_token, safe='')}", wait_until="load")
    await expect(page.locator("#erpgraph-token")).to_have_value(admin_token)
    await expect(page).to_have_url(re.compile(r"/graphql$"))
    await expect(page.locator(QUERY_EDITOR)).to_be_visible()

    await _run_viewer_query(page)
    await expect(page.locator(".graphiql-response")).to_contain_text(viewer_name)

    assert watched.offsite == [], "the page tried to leave the machine"
    assert watched.errors == []


@pytest.mark.parametrize("operation", ["subscription", "subscription Progress"])
async def test_subscriptions_named_or_anonymous_go_over_the_websocket(
    watched: Watched, live_server: str, admin_token: str, operation: str
) -> None:
    page = watched.page
    await page.goto(f"{live_server}/graphql?token={quote(admin_token, safe='')}", wait_until="load")
    await expect(page.locator(QUERY_EDITOR)).to_be_visible()
    query = operation + ' { jobProgress(jobId: "not-a-job") { status } }'
    await page.locator(QUERY_EDITOR).evaluate("(cm, q) => cm.CodeMirror.setValue(q)", query)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
    async with page.expect_websocket(lambda ws: ws.url.endswith("/graphql")):
        await page.locator(".graphiql-execute-button").click()
    # the server answers over the socket (the id is not a Job's), not the HTTP refusal
    await expect(page.locator(".graphiql-response")).to_contain_text("jobId")
    await expect(page.locator(".graphiql-response")).not_to_contain_text("need a websocket")
    assert not [body for body in posted if "jobProgress" in body]
    assert watched.offsite == [], "the page tried to leave the machine"
    assert watched.errors == []
