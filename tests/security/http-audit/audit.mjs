// Runs graphql-http's GraphQL-over-HTTP server audit against a live erpgraph.
// Usage: node audit.mjs <url> <bearer token>; prints one JSON array of
// {id, name, status: "ok" | "warn" | "error", reason} on stdout.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <url> <token>');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const shown = await Promise.all(results.map(async (result) => ({
  id: result.id,
  name: result.name,
  status: result.status,
  reason: result.status === 'ok' ? undefined : result.reason,
  body: result.status === 'ok' ? undefined : await result.response?.text().catch(() => undefined),
})));
console.log(JSON.stringify(shown, null, 2));
