// OAuth2 connections with both SDK lines, against a real authorization
// server (internal/testoauth, go-oauth2) that the Go harness runs and
// registers as the operator's managed app for PATCHBAY_OAUTH_TOOLKIT
// through --oauth-apps-file (contracts: composio-v3.md §3.3 initiate, link,
// waitForConnection, refresh, revoke; composio-legacy-v1.md §3.4
// initiateConnection with redirectUri, waitUntilActive).
//
// The end user's browser is played by fetch with redirect: 'manual': the
// connect link on patchbay, the provider's authorize endpoint (which
// approves at once), patchbay's callback, and the developer's callbackUrl,
// hop by hop on loopback. The SDKs then see the account ACTIVE. composio-core
// 0.5.39 has no refresh or revoke: the account it connected is refreshed and
// revoked through @composio/core, as a developer moving between the two
// would.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Composio as Core, ConnectionRequestFailedError } from '@composio/core';
import { Composio as Legacy } from 'composio-core';

import { config, disableLegacyVersionCheck, env, uniqueName } from '../lib/flow.mjs';

disableLegacyVersionCheck(Legacy);

const cfg = config();
const PROVIDER = env('PATCHBAY_OAUTH_PROVIDER_URL');
const TOOLKIT = env('PATCHBAY_OAUTH_TOOLKIT');
const CALLBACK_PATH = '/api/v3.1/toolkits/auth/callback';
// Where the developer wants the browser back: never fetched, only read.
const DEVELOPER = 'http://127.0.0.1:9/connected';

const core = new Core({ apiKey: cfg.ownerKey, baseURL: cfg.baseURL, allowTracking: false, disableVersionCheck: true, logLevel: 'error' });

/** One browser hop: GET url without following; the status and Location. */
async function hop(url) {
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location') };
}

/**
 * Follows a connect link as the end user's browser and returns the URL it
 * lands on at the developer's: link → provider → callback → developer.
 */
async function consent(link) {
  assert.ok(link.startsWith(`${cfg.baseURL}/api/v3.1/connect/`), `the redirect URL ${link} is a connect link on patchbay`);
  const toProvider = await hop(link);
  assert.equal(toProvider.status, 302);
  const authz = new URL(toProvider.location);
  assert.equal(authz.origin + authz.pathname, `${PROVIDER}/oauth/authorize`, 'the link sends the browser to the provider');
  assert.equal(authz.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authz.searchParams.get('redirect_uri'), `${cfg.baseURL}${CALLBACK_PATH}`);
  const back = await hop(authz.href);
  assert.equal(back.status, 302, 'the provider approves at once');
  const callback = new URL(back.location);
  assert.equal(callback.origin + callback.pathname, `${cfg.baseURL}${CALLBACK_PATH}`);
  assert.ok(callback.searchParams.get('code'), 'with a code');
  const done = await hop(callback.href);
  assert.equal(done.status, 302, 'the callback redirects to the developer');
  return new URL(done.location);
}

/** What the provider saw so far: counts only, never a token. */
async function providerStats() {
  const res = await fetch(`${PROVIDER}/oauth/_stats`);
  assert.equal(res.status, 200);
  return res.json();
}

/** The v3 account's top-level status and its state's masked tokens. */
async function coreAccount(id) {
  return core.connectedAccounts.get(id);
}

/** Refresh (on demand) then revoke through @composio/core, checked at the provider. */
async function refreshAndRevoke(id) {
  const before = await providerStats();
  const refreshed = await core.connectedAccounts.refresh(id);
  assert.equal(refreshed.id, id);
  assert.equal(refreshed.status, 'ACTIVE');
  const afterRefresh = await providerStats();
  assert.equal(afterRefresh.refresh_grants, before.refresh_grants + 1, 'refresh ran one refresh_token grant at the provider');
  assert.equal((await coreAccount(id)).status, 'ACTIVE');

  const revoked = await core.connectedAccounts.revoke(id);
  assert.equal(revoked.connected_account?.id ?? revoked.connectedAccount?.id ?? id, id);
  const kinds = revoked.revoked_tokens ?? revoked.revokedTokens;
  assert.deepEqual(kinds, ['refresh_token', 'access_token', 'credential'], 'revoked at the provider and here');
  const afterRevoke = await providerStats();
  assert.deepEqual(afterRevoke.revocations.slice(before.revocations.length), ['refresh_token', 'access_token']);
  assert.equal((await coreAccount(id)).status, 'REVOKED');
  // A revoked account is never refreshed back to life.
  const again = await core.connectedAccounts.refresh(id);
  assert.equal(again.status, 'REVOKED');
  assert.equal((await providerStats()).refresh_grants, afterRefresh.refresh_grants);
}

describe(`@composio/core: OAuth2 with ${TOOLKIT} through the operator's managed app`, () => {
  let authConfig;

  test(`authConfigs.create('${TOOLKIT}', {type:'use_composio_managed_auth'}) → an OAUTH2 auth config`, async () => {
    authConfig = await core.authConfigs.create(TOOLKIT, { type: 'use_composio_managed_auth', name: uniqueName('oauth') });
    assert.equal(typeof authConfig.id, 'string');
    assert.equal(authConfig.authScheme, 'OAUTH2');
  });

  test('connectedAccounts.initiate → INITIATED with a connect link; consent; waitForConnection → ACTIVE; refresh; revoke', async () => {
    const userId = uniqueName('oauth-user');
    const req = await core.connectedAccounts.initiate(userId, authConfig.id, { callbackUrl: `${DEVELOPER}?via=initiate` });
    assert.equal(req.status, 'INITIATED');
    assert.equal(typeof req.redirectUrl, 'string');
    assert.equal((await coreAccount(req.id)).status, 'INITIATED');

    const landed = await consent(req.redirectUrl);
    assert.equal(landed.origin + landed.pathname, DEVELOPER);
    assert.equal(landed.searchParams.get('via'), 'initiate', "the developer's own query is kept");
    assert.equal(landed.searchParams.get('status'), 'success');
    assert.equal(landed.searchParams.get('connected_account_id'), req.id);

    const account = await req.waitForConnection(10_000);
    assert.equal(account.id, req.id);
    assert.equal(account.status, 'ACTIVE');
    assert.equal(account.toolkit.slug, TOOLKIT);
    await refreshAndRevoke(req.id);
  });

  test('connectedAccounts.link → the same flow from a link', async () => {
    const userId = uniqueName('oauth-link-user');
    const req = await core.connectedAccounts.link(userId, authConfig.id, { callbackUrl: `${DEVELOPER}?via=link` });
    assert.equal(req.status, 'INITIATED');
    const landed = await consent(req.redirectUrl);
    assert.equal(landed.searchParams.get('status'), 'success');
    assert.equal(landed.searchParams.get('connected_account_id'), req.id);
    const account = await core.connectedAccounts.waitForConnection(req.id, 10_000);
    assert.equal(account.status, 'ACTIVE');
    await refreshAndRevoke(req.id);
  });

  test('a replayed callback changes nothing and lands on the developer with an error', async () => {
    const req = await core.connectedAccounts.initiate(uniqueName('oauth-replay'), authConfig.id, { callbackUrl: DEVELOPER });
    const toProvider = await hop(req.redirectUrl);
    const back = await hop(toProvider.location);
    const first = await hop(back.location);
    assert.equal(new URL(first.location).searchParams.get('status'), 'success');
    const replay = await hop(back.location);
    assert.equal(replay.status, 302);
    const landed = new URL(replay.location);
    assert.equal(landed.origin + landed.pathname, DEVELOPER);
    assert.equal(landed.searchParams.get('status'), 'failed');
    assert.ok(landed.searchParams.get('error'), 'with the reason');
    assert.equal((await coreAccount(req.id)).status, 'ACTIVE', 'the account the first callback completed stays ACTIVE');
  });

  test('an abandoned consent: waitForConnection times out while the account is INITIATED', async () => {
    const req = await core.connectedAccounts.initiate(uniqueName('oauth-abandoned'), authConfig.id, {});
    await assert.rejects(req.waitForConnection(1500), (err) => {
      assert.ok(!(err instanceof ConnectionRequestFailedError), 'not a failure: the user may still consent');
      return true;
    });
    assert.equal((await coreAccount(req.id)).status, 'INITIATED');
  });
});

describe(`composio-core 0.5.39: OAuth2 with ${TOOLKIT} through initiateConnection with redirectUri`, () => {
  const composio = new Legacy({ apiKey: cfg.ownerKey, baseUrl: cfg.baseURL });
  let integration;

  test("integrations.create({appUniqueKey, authScheme:'OAUTH2', useComposioAuth:true})", async () => {
    integration = await composio.integrations.create({
      name: uniqueName('legacy-oauth'),
      appUniqueKey: TOOLKIT,
      authScheme: 'OAUTH2',
      useComposioAuth: true,
      authConfig: {},
    });
    assert.equal(typeof integration.id, 'string');
    assert.equal(integration.authScheme, 'OAUTH2');
  });

  test('entity.initiateConnection → INITIATED with a redirectUrl; consent; waitUntilActive → ACTIVE; then refresh and revoke', async () => {
    const entityId = uniqueName('legacy-oauth-entity');
    const entity = composio.getEntity(entityId);
    const req = await entity.initiateConnection({
      appName: TOOLKIT,
      integrationId: integration.id,
      authMode: 'OAUTH2',
      redirectUri: `${DEVELOPER}?via=legacy`,
    });
    assert.equal(req.connectionStatus, 'INITIATED');
    assert.equal(typeof req.redirectUrl, 'string');
    assert.equal(typeof req.connectedAccountId, 'string');

    const landed = await consent(req.redirectUrl);
    assert.equal(landed.origin + landed.pathname, DEVELOPER);
    assert.equal(landed.searchParams.get('via'), 'legacy');
    assert.equal(landed.searchParams.get('status'), 'success');
    assert.equal(landed.searchParams.get('connected_account_id'), req.connectedAccountId);

    const account = await req.waitUntilActive(10);
    assert.equal(account.id, req.connectedAccountId);
    assert.equal(account.status, 'ACTIVE');
    assert.equal(account.appName, TOOLKIT);
    assert.equal(account.entityId, entityId);
    const got = await composio.connectedAccounts.get({ connectedAccountId: req.connectedAccountId });
    assert.equal(got.status, 'ACTIVE');

    await refreshAndRevoke(req.connectedAccountId);
    const after = await composio.connectedAccounts.get({ connectedAccountId: req.connectedAccountId });
    assert.equal(after.status, 'REVOKED', 'the legacy SDK sees the revocation too');
  });
});
