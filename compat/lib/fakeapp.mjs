// The fake app the tool flows execute against (compat_test.go, fakeApp):
// patchbay runs with --upstream-override github=<fake>/github and
// serpapi=<fake>/serpapi, so every call a github or serpapi tool makes
// reaches the fake, which records it and answers what the flow scripted.
// The flow drives the fake over its control endpoints, which need a token
// patchbay never sees. Not a test file itself.

import assert from 'node:assert/strict';

import { env, guard } from './flow.mjs';

// The fetch of the flow's own calls to the fake, taken before a flow wraps
// globalThis.fetch to record what an SDK sends.
const fetchFake = globalThis.fetch;

/**
 * The fake app of this server: its URL and its control endpoints.
 * Requests come back as {method, path, rawQuery, query:{k:[v]},
 * headers:{lower-case name:[v]}, body (text)}.
 */
export function fakeApp() {
  const url = env('PATCHBAY_FAKE_APP_URL').replace(/\/+$/, '');
  const token = env('PATCHBAY_FAKE_APP_TOKEN');
  assert.ok(guard().isLoopback(new URL(url).hostname), `PATCHBAY_FAKE_APP_URL ${url} is not a loopback URL`);

  async function control(what, body) {
    const res = await fetchFake(`${url}/__fake/${what}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-control': token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `fake app ${what}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    url,
    /** The base URL patchbay uses for a toolkit: <fake>/<slug>. */
    base: (toolkit) => `${url}/${toolkit}`,
    /**
     * From now on, answer METHOD path (the escaped path the fake receives,
     * toolkit prefix included; the query is not matched) with status,
     * headers and a JSON body.
     */
    script: ({ method, path, status = 200, headers = {}, body }) => control('script', { method, path, status, headers, body }),
    /** The requests received since the last take or reset, oldest first. */
    take: () => control('take'),
    /** Forgets every script and every request received. */
    reset: () => control('reset'),
  };
}
