"""GraphiQL served from vendored assets, with a bearer-token bar.

The machine that runs erpgraph may have no internet, so the page loads React and
GraphiQL only from ``STATIC_PATH`` (see ``static/LICENSES.txt``).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_PATH", "render_graphiql", "static_app"]

STATIC_PATH = "/graphiql/static"
"""URL prefix where :func:`static_app` is mounted."""

_STATIC_DIR = Path(__file__).resolve().parent / "static"

# One inline <style> and one inline <script>, no inline event handlers and no
# eval, so a CSP needs only a hash (or 'unsafe-inline') for those two blocks.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>erpgraph GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="__STATIC__/graphiql.min.css">
<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; overflow: hidden; }
.erpgraph-bar {
  display: flex; align-items: center; gap: 8px; flex: 0 0 auto;
  padding: 6px 12px; border-bottom: 1px solid #d0d4dc; background: #f3f4f7;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #3b4252;
}
.erpgraph-bar strong { font-weight: 600; margin-right: 8px; }
.erpgraph-bar input {
  flex: 0 1 420px; min-width: 120px; padding: 4px 8px; font: inherit;
  border: 1px solid #b8bec9; border-radius: 4px; background: #fff;
}
.erpgraph-bar button {
  padding: 4px 10px; font: inherit; cursor: pointer;
  border: 1px solid #b8bec9; border-radius: 4px; background: #fff;
}
.erpgraph-bar output { color: #6b7280; }
#graphiql { flex: 1 1 auto; min-height: 0; display: flex; }
</style>
</head>
<body>
<form class="erpgraph-bar" id="erpgraph-bar" autocomplete="off">
  <strong>erpgraph</strong>
  <label for="erpgraph-token">Bearer token</label>
  <input id="erpgraph-token" name="token" type="password" autocomplete="off" spellcheck="false"
         placeholder="paste a token; kept in this browser's localStorage">
  <button id="erpgraph-token-toggle" type="button">Show</button>
  <button id="erpgraph-token-forget" type="button">Forget</button>
  <output id="erpgraph-token-status" for="erpgraph-token"></output>
</form>
<div id="graphiql">Loading GraphiQL&hellip;</div>
<noscript>GraphiQL needs JavaScript.</noscript>
<script src="__STATIC__/react.production.min.js"></script>
<script src="__STATIC__/react-dom.production.min.js"></script>
<script src="__STATIC__/graphiql.min.js"></script>
<script>
(function () {
  "use strict";
  var GRAPHQL_PATH = __GRAPHQL_PATH__;
  var STORAGE_KEY = "erpgraph:token";
  var APPLY_DELAY_MS = 400;
  var DEFAULT_QUERY = [
    "# erpgraph GraphiQL",
    "#",
    "# Paste a bearer token in the bar above,",
    "# then run this with Ctrl-Enter.",
    "{",
    "  viewer {",
    "    name",
    "    role",
    "    scopes",
    "  }",
    "}",
    ""
  ].join("\\n");

  var form = document.getElementById("erpgraph-bar");
  var input = document.getElementById("erpgraph-token");
  var toggle = document.getElementById("erpgraph-token-toggle");
  var forget = document.getElementById("erpgraph-token-forget");
  var status = document.getElementById("erpgraph-token-status");

  var httpUrl = new URL(GRAPHQL_PATH, window.location.href);
  var wsUrl = new URL(httpUrl.href);
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  function normalize(raw) {
    return (raw || "").trim().replace(/^bearer\\s+/i, "");
  }

  function loadToken() {
    try { return window.localStorage.getItem(STORAGE_KEY) || ""; }
    catch (err) { return ""; }
  }

  function saveToken(token) {
    try {
      if (token) { window.localStorage.setItem(STORAGE_KEY, token); }
      else { window.localStorage.removeItem(STORAGE_KEY); }
    } catch (err) { /* private mode: the token lives for this page only */ }
  }

  // ?token= seeds the bar once, then leaves the address bar and history.
  function takeTokenFromUrl() {
    var url = new URL(window.location.href);
    var token = url.searchParams.get("token");
    if (token === null) { return null; }
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    return normalize(token);
  }

  // The operations of a GraphQL document, [{type, name}], read from its top level only.
  function operations(query) {
    var text = (query || "")
      .replace(/"{3}[\\s\\S]*?"{3}/g, '""')
      .replace(/"(?:[^"\\\\\\n]|\\\\.)*"/g, '""')
      .replace(/#[^\\n\\r]*/g, "");
    var found = [];
    var depth = 0;
    var token = /[{}()]|[_A-Za-z][_0-9A-Za-z]*/g;
    var match, expectName = null;
    while ((match = token.exec(text)) !== null) {
      var word = match[0];
      if (word === "{" || word === "(") {
        if (depth === 0 && word === "{" && expectName === null) { found.push({ type: "query", name: null }); }
        if (depth === 0 && word === "{") { expectName = null; }
        depth += 1;
      } else if (word === "}" || word === ")") {
        depth = Math.max(0, depth - 1);
      } else if (depth === 0) {
        if (expectName !== null) {
          if (expectName.name === null && expectName.type !== "fragment" && word !== "on") {
            expectName.name = word;
          }
        } else if (word === "query" || word === "mutation" || word === "subscription" || word === "fragment") {
          expectName = { type: word, name: null };
          if (word !== "fragment") { found.push(expectName); }
        }
      }
    }
    return found;
  }

  // The operation a request runs: the one named, else the only one.
  function isSubscription(params) {
    var ops = operations(params.query);
    var chosen = params.operationName
      ? ops.filter(function (op) { return op.name === params.operationName; })[0]
      : (ops.length === 1 ? ops[0] : undefined);
    return Boolean(chosen) && chosen.type === "subscription";
  }

  // GraphiQL's fetcher picks the websocket from the editor's parsed document, which
  // can lag behind the text (or miss an anonymous subscription); it then POSTs the
  // subscription, which the server refuses. Decide from the request itself, and
  // hand the fetcher a document that says "subscription" for that operation.
  function makeFetcher(token) {
    var auth = token ? { Authorization: "Bearer " + token } : {};
    var fetcher = GraphiQL.createFetcher({
      url: httpUrl.href,
      headers: auth,
      subscriptionUrl: wsUrl.href,
      wsConnectionParams: auth
    });
    return function (params, opts) {
      if (!isSubscription(params)) { return fetcher(params, opts); }
      var name = params.operationName || undefined;
      var documentAST = { kind: "Document", definitions: [{
        kind: "OperationDefinition",
        operation: "subscription",
        name: name ? { kind: "Name", value: name } : undefined,
        selectionSet: { kind: "SelectionSet", selections: [] }
      }] };
      return fetcher(
        Object.assign({}, params, { operationName: name }),
        Object.assign({}, opts || {}, { documentAST: documentAST })
      );
    };
  }

  var initialQuery = new URL(window.location.href).searchParams.get("query");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var current = null;

  // A new fetcher makes GraphiQL introspect again, now with the new token.
  function apply(token) {
    if (token === current) { return; }
    current = token;
    saveToken(token);
    status.value = token ? "token saved in this browser" : "no token: requests are anonymous";
    root.render(React.createElement(GraphiQL, {
      fetcher: makeFetcher(token),
      defaultQuery: DEFAULT_QUERY,
      query: initialQuery || undefined,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true
    }));
  }

  var pending = null;
  function applySoon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { apply(normalize(input.value)); }, APPLY_DELAY_MS);
  }
  function applyNow() {
    window.clearTimeout(pending);
    apply(normalize(input.value));
  }

  input.addEventListener("input", applySoon);
  input.addEventListener("change", applyNow);
  form.addEventListener("submit", function (event) { event.preventDefault(); applyNow(); });
  toggle.addEventListener("click", function () {
    var hidden = input.type === "password";
    input.type = hidden ? "text" : "password";
    toggle.textContent = hidden ? "Hide" : "Show";
  });
  forget.addEventListener("click", function () {
    input.value = "";
    applyNow();
    input.focus();
  });

  var fromUrl = takeTokenFromUrl();
  input.value = fromUrl !== null ? fromUrl : loadToken();
  applyNow();
})();
</script>
</body>
</html>
"""


def static_app() -> StaticFiles:
    """ASGI app serving the vendored GraphiQL/React assets; mount it at ``STATIC_PATH``."""
    return StaticFiles(directory=_STATIC_DIR)


def render_graphiql(graphql_path: str = "/graphql") -> str:
    """Return the GraphiQL HTML page that talks to ``graphql_path``.

    HTTP requests POST JSON to ``graphql_path`` with ``Authorization: Bearer
    <token>`` taken from the page's token bar; subscriptions use
    graphql-transport-ws on the same path with ``{"Authorization": "Bearer
    <token>"}`` as connection params.
    """
    return _PAGE.replace("__STATIC__", STATIC_PATH).replace(
        "__GRAPHQL_PATH__", _script_literal(graphql_path)
    )


def _script_literal(value: str) -> str:
    # JSON is a JS literal; escaping <, > and & keeps "</script>" from closing the block.
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
