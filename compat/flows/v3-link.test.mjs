// A hosted connect link for an API-key app with the current SDK,
// @composio/core 0.21.0 (contract: shared/contracts/composio-v3.md, the
// link row of §3): connectedAccounts.link answers an INITIATED request whose
// redirectUrl is patchbay's form; the end user (here: fetch, as a browser
// would post the form) enters the key; waitForConnection then sees the
// account ACTIVE, the key masked.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { Composio } from '@composio/core';

import { fakeApp } from '../lib/fakeapp.mjs';
import { config, uniqueName } from '../lib/flow.mjs';

const cfg = config();
const fake = fakeApp();

const logged = [];
const sink = {
  error: (...a) => logged.push(`error: ${a.join(' ')}`),
  warn: (...a) => logged.push(`warn: ${a.join(' ')}`),
  info: () => {},
  debug: () => {},
};
const sdk = new Composio({
  baseURL: cfg.baseURL, apiKey: cfg.ownerKey, allowTracking: false, disableVersionCheck: true, logger: sink, logLevel: 'warn',
});

const KEY = `serp-${randomBytes(12).toString('hex')}`;
const userId = uniqueName('link-user');
const callbackUrl = 'https://app.example/connected?from=patchbay';
let ac;
let req;

function step(name, fn) {
  test(name, async () => {
    logged.splice(0);
    await fn();
    assert.deepEqual(logged.splice(0), [], 'the SDK logged warnings: the server left out fields its schemas want');
  });
}

step("authConfigs.create('serpapi', API_KEY)", async () => {
  ac = await sdk.authConfigs.create('serpapi', { type: 'use_custom_auth', authScheme: 'API_KEY', credentials: {}, name: uniqueName('link') });
  assert.match(ac.id, /^ac_/);
});

step('connectedAccounts.link(user, ac, {callbackUrl}) → INITIATED, redirectUrl on patchbay', async () => {
  req = await sdk.connectedAccounts.link(userId, ac.id, { callbackUrl });
  assert.equal(req.status, 'INITIATED');
  assert.match(req.id, /^ca_/);
  assert.ok(req.redirectUrl.startsWith(new URL(cfg.baseURL).origin + '/api/v3.1/connect/'), `redirectUrl ${req.redirectUrl}`);
});

step('the end user fills the hosted form → 303 to callbackUrl with status=success', async () => {
  const page = await fetch(req.redirectUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<input id="field-generic_api_key" name="generic_api_key" type="password"/);
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
  assert.ok(csrf, 'the form carries a CSRF token');

  await fake.reset();
  await fake.script({ method: 'GET', path: '/serpapi/account', status: 200, body: { account_email: 'user@example.com' } });
  const res = await fetch(req.redirectUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(req.redirectUrl).origin },
    body: new URLSearchParams({ csrf, generic_api_key: KEY }).toString(),
  });
  const body = await res.text();
  assert.equal(res.status, 303, body);
  assert.ok(!body.includes(KEY));
  const done = new URL(res.headers.get('location'));
  assert.equal(done.origin + done.pathname, 'https://app.example/connected');
  assert.equal(done.searchParams.get('status'), 'success');
  assert.equal(done.searchParams.get('connected_account_id'), req.id);
  const seen = await fake.take();
  assert.equal(seen.length, 1, 'patchbay checked the key with the app once');
  assert.equal(seen[0].path, '/serpapi/account');
  assert.deepEqual(seen[0].query.api_key, [KEY]);
});

step('waitForConnection() → the ACTIVE account, the key masked', async () => {
  const account = await req.waitForConnection(5000);
  assert.equal(account.id, req.id);
  assert.equal(account.status, 'ACTIVE');
  assert.equal(account.toolkit.slug, 'serpapi');
  assert.ok(!JSON.stringify(account).includes(KEY), 'the account carries the key in plaintext');
});

step('the link again → 410, already used', async () => {
  const res = await fetch(req.redirectUrl);
  assert.equal(res.status, 410);
  assert.match(await res.text(), /already used/);
});
