// Seed flow "Connecting to Token/API Key apps" with the legacy SDK,
// composio-core 0.5.39 (contract: shared/contracts/composio-legacy-v1.md
// §2, §3.2–§3.4, §4, §5, §6), plus the revoked-key flow through an SDK
// method (§2, §5 "revoked key"), which needs GET /api/v1/apps.
//
// Every step is an SDK model method called the way the seed documents call
// it: `new Composio({apiKey, baseUrl})` and `new OpenAIToolSet({apiKey,
// baseUrl})` (a framework toolset ignores COMPOSIO_BASE_URL, §1, so the base
// URL is passed explicitly), `composio.getEntity(id)` / `await
// toolset.getEntity(id)`, and the apps, integrations and connectedAccounts
// models. Failures therefore go through the SDK's own error mapper
// (CEG.handleAllError → ComposioError, §2).
//
// The requests each step sends are read off the SDK's own axios instance
// (composio.backendClient.getAxiosInstance(), a response interceptor that
// only records), so the flow also checks the request sequences of §4/§5.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { Composio, ComposioError, OpenAIToolSet } from 'composio-core';

import { config, disableLegacyVersionCheck, guard, uniqueName } from '../lib/flow.mjs';

// composio-core 0.5.39's npm version check is turned off (see lib/flow.mjs):
// this flow may make no off-host attempt; the last test checks that.
disableLegacyVersionCheck(Composio);

const cfg = config();
const BASE = cfg.baseURL.replace(/\/+$/, '');

/** A Composio client as the seed flow builds it, recording its requests. */
function legacy(apiKey = cfg.ownerKey) {
  const composio = new Composio({ apiKey, baseUrl: cfg.baseURL });
  composio.sent = recordRequests(composio);
  return composio;
}

/**
 * Records "METHOD /path?query" of every request the SDK's axios instance
 * completes (successfully or not), in order. take() returns and clears them.
 */
function recordRequests(composio) {
  const seen = [];
  const ax = composio.backendClient.getAxiosInstance();
  const rec = (c) => {
    const u = new URL(ax.getUri(c));
    seen.push(`${c.method.toUpperCase()} ${u.pathname}${u.search}`);
  };
  ax.interceptors.response.use(
    (res) => {
      rec(res.config);
      return res;
    },
    (err) => {
      if (err?.config) rec(err.config);
      return Promise.reject(err);
    },
  );
  return { take: () => seen.splice(0) };
}

/** Asserts that p rejects with a ComposioError mapped from HTTP status; returns it. */
async function rejectsComposio(p, errCode, status) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ComposioError, `expected a ComposioError, got ${caught?.constructor?.name}: ${caught?.message}`);
  assert.equal(caught.errCode, errCode, `errCode (message ${caught.message}; description ${caught.description})`);
  assert.equal(caught.metadata?.statusCode, status);
  assert.equal(typeof caught.metadata.requestId, 'string');
  assert.ok(caught.metadata.fullUrl.startsWith(`${BASE}/api/`), `fullUrl ${caught.metadata.fullUrl}`);
  return caught;
}

/** Asserts that p rejects with a ComposioError of errCode raised by the SDK itself. */
async function rejectsComposioCode(p, errCode) {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof ComposioError, `expected a ComposioError, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.errCode, errCode);
    return true;
  });
}

// Credentials the flow's end users "type in". None may ever come back in
// plaintext: every SDK result is kept and checked at the end.
const secret = (prefix) => `${prefix}${randomBytes(12).toString('hex')}`;
const SERP_KEY = secret('serp-');
const SERP_KEY_2 = secret('serp-');
const GH_TOKEN = secret('ghp_');
const TW_SID = `AC${randomBytes(16).toString('hex')}`; // Account SID: not a secret, returned as is
const TW_TOKEN = secret('tw-');
const SECRETS = [SERP_KEY, SERP_KEY_2, GH_TOKEN, TW_TOKEN];
const results = [];
/** Keeps an SDK result for the final plaintext check and returns it. */
const keep = (x) => {
  results.push(x);
  return x;
};
const assertNoSecrets = (x, what) => {
  const s = JSON.stringify(x);
  for (const k of SECRETS) assert.ok(!s.includes(k), `${what} carries a credential in plaintext`);
};

/** Checks one ExpectedInputFieldsDTO (§3.3): all eight keys, typed. */
function assertInputField(f) {
  assert.equal(typeof f.name, 'string');
  assert.equal(typeof f.display_name, 'string');
  assert.equal(typeof f.description, 'string');
  assert.equal(typeof f.type, 'string');
  assert.equal(typeof f.required, 'boolean');
  assert.equal(typeof f.expected_from_customer, 'boolean');
  assert.equal(typeof f.is_secret, 'boolean');
  assert.ok('default' in f, 'default is sent (null when none)');
}

/** Checks a ConnectedAccountResponseDTO (§3.4). */
function assertAccount(a, want) {
  assert.equal(a.id, want.id);
  assert.equal(a.status, 'ACTIVE');
  assert.equal(a.appName, want.appName);
  assert.equal(a.appUniqueId, want.appName);
  assert.equal(a.entityId, want.entityId);
  assert.equal(a.clientUniqueUserId, want.entityId);
  if (want.integrationId) assert.equal(a.integrationId, want.integrationId);
  else assert.equal(typeof a.integrationId, 'string');
  assert.equal(typeof a.enabled, 'boolean');
  assert.equal(a.isDisabled, !a.enabled);
  assert.ok(Array.isArray(a.labels));
  assert.ok(!Number.isNaN(Date.parse(a.createdAt)), `createdAt ${a.createdAt}`);
  assert.ok(!Number.isNaN(Date.parse(a.updatedAt)), `updatedAt ${a.updatedAt}`);
}

/** The app's API_KEY scheme, from apps.get or apps.list items. */
const apiKeyScheme = (app) => app.auth_schemes.find((s) => s.mode === 'API_KEY');

describe('composio-core 0.5.39: connecting to Token/API Key apps (serpapi)', () => {
  const composio = legacy();
  const entityId = uniqueName('flow-entity');
  const integrationName = uniqueName('compat-serpapi');
  let integration; // integrations.create's answer
  let connReq; // entity.initiateConnection's ConnectionRequest
  let freshApp; // {key, integrationId} of the getExpectedParamsForUser auto-create path

  test('composio.apps.get({appKey:"serpapi"}): auth_schemes holds API_KEY with its fields (§3.2)', async () => {
    const app = keep(await composio.apps.get({ appKey: 'serpapi' }));
    assert.deepEqual(composio.sent.take(), ['GET /api/v1/apps/serpapi']);
    assert.equal(app.key, 'serpapi');
    assert.equal(typeof app.appId, 'string');
    assert.equal(typeof app.name, 'string');
    assert.equal(app.no_auth, false);
    assert.ok(Array.isArray(app.testConnectors));
    assert.ok(Array.isArray(app.auth_schemes), 'auth_schemes must be an array (SDK: "authSchemes is not iterable")');
    assert.deepEqual(app.auth_schemes.map((s) => s.mode), ['API_KEY']);
    const scheme = apiKeyScheme(app);
    assert.equal(scheme.auth_mode, 'API_KEY', 'auth_mode is sent too (older TS type, Python)');
    assert.equal(typeof scheme.scheme_name, 'string');
    assert.ok(Array.isArray(scheme.fields));
    assert.equal(scheme.fields.length, 1);
    const [field] = scheme.fields;
    assertInputField(field);
    assert.equal(field.name, 'generic_api_key');
    assert.equal(field.required, true);
    assert.equal(field.expected_from_customer, true, 'supplied by the end user at connection time');
    assert.equal(field.is_secret, true);
  });

  test('composio.apps.getRequiredParamsForAuthScheme({appName, authScheme:"API_KEY"}) lists the key field (§4)', async () => {
    const params = keep(await composio.apps.getRequiredParamsForAuthScheme({ appName: 'serpapi', authScheme: 'API_KEY' }));
    assert.deepEqual(composio.sent.take(), ['GET /api/v1/apps/serpapi']);
    assert.deepEqual(params, { required_fields: ['generic_api_key'], optional_fields: [], expected_from_user: [] });
    // A scheme the app does not have: the SDK answers undefined.
    assert.equal(await composio.apps.getRequiredParamsForAuthScheme({ appName: 'serpapi', authScheme: 'OAUTH2' }), undefined);
    composio.sent.take();
  });

  test('composio.integrations.create({name, appUniqueKey, authScheme:"API_KEY", useComposioAuth:false, authConfig:{}}) (§3.3)', async () => {
    integration = keep(
      await composio.integrations.create({
        name: integrationName,
        appUniqueKey: 'serpapi',
        authScheme: 'API_KEY',
        useComposioAuth: false,
        authConfig: {},
      }),
    );
    const sent = composio.sent.take();
    assert.equal(sent.length, 2, sent.join(', '));
    assert.equal(sent[0], 'POST /api/v2/integrations/create');
    assert.equal(sent[1], `GET /api/v1/integrations/${integration.id}`, 'the SDK reads integrationId, then GETs the integration');
    assert.equal(typeof integration.id, 'string');
    assert.ok(integration.id.length > 0);
    assert.equal(integration.name, integrationName);
    assert.equal(integration.authScheme, 'API_KEY');
    assert.equal(integration.appName, 'serpapi');
    assert.equal(typeof integration.appId, 'string');
    assert.equal(integration.useComposioAuth, false);
    assert.equal(integration.enabled, true);
    assert.equal(integration.deleted, false);
    assert.deepEqual(integration.authConfig, {}, 'no integration-level secrets for an API_KEY app');
    assert.ok(!Number.isNaN(Date.parse(integration.createdAt)));
    assert.ok(Array.isArray(integration.expectedInputFields));
    assert.deepEqual(integration.expectedInputFields.map((f) => f.name), ['generic_api_key']);
    integration.expectedInputFields.forEach(assertInputField);
  });

  test('composio.integrations.get({integrationId}): expectedInputFields lists the connection-time field', async () => {
    const got = keep(await composio.integrations.get({ integrationId: integration.id }));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/integrations/${integration.id}`]);
    assert.equal(got.id, integration.id);
    assert.equal(got.name, integrationName);
    assert.equal(got.authScheme, 'API_KEY');
    assert.ok(got.expectedInputFields.length > 0, 'expectedInputFields is not empty');
    assert.deepEqual(got.expectedInputFields, integration.expectedInputFields);
    const [f] = got.expectedInputFields;
    assert.equal(f.required, true);
    assert.equal(f.expected_from_customer, true);
    assert.equal(f.is_secret, true);
    assert.equal(f.display_name, 'API Key');
  });

  test('composio.integrations.getRequiredParams({integrationId}) returns expectedInputFields', async () => {
    const fields = keep(await composio.integrations.getRequiredParams({ integrationId: integration.id }));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/integrations/${integration.id}`]);
    assert.deepEqual(fields, integration.expectedInputFields);
  });

  test('composio.integrations.list({appName:"serpapi"}) lists it; appName matches case-insensitively', async () => {
    const res = keep(await composio.integrations.list({ appName: 'serpapi' }));
    assert.deepEqual(composio.sent.take(), ['GET /api/v1/integrations?appName=serpapi']);
    assert.ok(Array.isArray(res.items));
    assert.equal(typeof res.totalPages, 'number');
    assert.equal(res.page, 1);
    assert.ok(res.items.every((i) => i.appName === 'serpapi'), 'only serpapi integrations');
    const mine = res.items.find((i) => i.id === integration.id);
    assert.ok(mine, 'the new integration is listed');
    assert.equal(mine.authScheme, 'API_KEY');
    assert.equal(mine.name, integrationName);
    // §3.3: the SDK passes appName unmodified (observed "SERPAPI").
    const upper = keep(await composio.integrations.list({ appName: 'SERPAPI' }));
    composio.sent.take();
    assert.ok(upper.items.some((i) => i.id === integration.id));
  });

  test('composio.getExpectedParamsForUser({app, authScheme, integrationId}) reads that integration', async () => {
    const res = keep(await composio.getExpectedParamsForUser({ app: 'serpapi', authScheme: 'API_KEY', integrationId: integration.id }));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/integrations/${integration.id}`]);
    assert.deepEqual(res, { expectedInputFields: integration.expectedInputFields, integrationId: integration.id, authScheme: 'API_KEY' });
  });

  test('composio.getExpectedParamsForUser({app, authScheme}) without an id finds the existing integration', async () => {
    const res = keep(await composio.getExpectedParamsForUser({ app: 'serpapi', authScheme: 'API_KEY' }));
    assert.deepEqual(composio.sent.take(), [
      'GET /api/v1/integrations?showDisabled=false&appName=serpapi',
      `GET /api/v1/integrations/${res.integrationId}`,
    ]);
    // The SDK takes the first listed integration with that scheme.
    const listed = (await composio.integrations.list({ appName: 'serpapi', showDisabled: false })).items.filter((i) => i.authScheme === 'API_KEY');
    composio.sent.take();
    assert.equal(res.integrationId, listed[0].id);
    assert.ok(listed.some((i) => i.id === integration.id));
    assert.equal(res.authScheme, 'API_KEY');
    assert.deepEqual(res.expectedInputFields.map((f) => f.name), ['generic_api_key']);
  });

  test('composio.getExpectedParamsForUser for an app with no integration yet creates one (§4 auto-create path)', async () => {
    // An API_KEY app whose fields all come from the end user (so the SDK may
    // create an integration without developer credentials) and that this
    // project has no integration for yet.
    const apps = keep(await composio.apps.list());
    composio.sent.take();
    const candidates = apps.filter((a) => apiKeyScheme(a)?.fields.every((f) => f.expected_from_customer) && a.key !== 'serpapi');
    assert.ok(candidates.length > 0, 'the catalog has API_KEY apps');
    for (const a of candidates) {
      const { items } = await composio.integrations.list({ appName: a.key });
      if (items.length === 0) {
        freshApp = { key: a.key, fields: apiKeyScheme(a).fields.map((f) => f.name) };
        break;
      }
    }
    composio.sent.take();
    assert.ok(freshApp, `every API_KEY app already has an integration in this project (${candidates.map((a) => a.key)})`);

    const res = keep(await composio.getExpectedParamsForUser({ app: freshApp.key, authScheme: 'API_KEY' }));
    assert.deepEqual(composio.sent.take(), [
      `GET /api/v1/integrations?showDisabled=false&appName=${freshApp.key}`, // none
      `GET /api/v1/apps/${freshApp.key}`, // the app's schemes and testConnectors
      'GET /api/v1/apps', // integrations.create({appId}) looks the key up by appId
      'POST /api/v2/integrations/create',
      `GET /api/v1/integrations/${res.integrationId}`,
    ]);
    assert.equal(typeof res.integrationId, 'string');
    assert.equal(res.authScheme, 'API_KEY');
    assert.deepEqual(res.expectedInputFields.map((f) => f.name), freshApp.fields);
    res.expectedInputFields.forEach(assertInputField);
    freshApp.integrationId = res.integrationId;

    const created = keep(await composio.integrations.get({ integrationId: res.integrationId }));
    composio.sent.take();
    assert.equal(created.appName, freshApp.key);
    assert.match(created.name, /^integration_\d{8}T\d+Z$/, 'named by the SDK: integration_<timestamp>');
    assert.equal(created.useComposioAuth, false, 'no testConnectors: useComposioAuth false');
    // Asked again, it finds the integration it created.
    const again = keep(await composio.getExpectedParamsForUser({ app: freshApp.key, authScheme: 'API_KEY' }));
    assert.equal(composio.sent.take().length, 2);
    assert.equal(again.integrationId, res.integrationId);
  });

  test('entity.initiateConnection({appName, integrationId, authMode:"API_KEY", connectionParams}) → ACTIVE, no redirect (§3.4)', async () => {
    const entity = composio.getEntity(entityId);
    assert.equal(entity.id, entityId);
    connReq = keep(
      await entity.initiateConnection({
        appName: 'serpapi',
        integrationId: integration.id,
        authMode: 'API_KEY',
        connectionParams: { api_key: SERP_KEY }, // the alias of serpapi's generic_api_key
      }),
    );
    assert.deepEqual(composio.sent.take(), ['POST /api/v2/connectedAccounts/initiateConnection']);
    assert.equal(connReq.connectionStatus, 'ACTIVE');
    assert.equal(connReq.redirectUrl, null, 'redirectUrl is null for a key-based scheme');
    assert.equal(typeof connReq.connectedAccountId, 'string');
    assert.ok(connReq.connectedAccountId.length > 0);
  });

  test('connReq.waitUntilActive() returns the ACTIVE account at the first poll', async () => {
    assert.equal(typeof connReq.waitUntilActive, 'function');
    const account = keep(await connReq.waitUntilActive(5));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/connectedAccounts/${connReq.connectedAccountId}`]);
    assertAccount(account, { id: connReq.connectedAccountId, appName: 'serpapi', entityId, integrationId: integration.id });
  });

  test('composio.connectedAccounts.get({connectedAccountId}) → ACTIVE; the key comes back masked', async () => {
    const account = keep(await composio.connectedAccounts.get({ connectedAccountId: connReq.connectedAccountId }));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/connectedAccounts/${connReq.connectedAccountId}`]);
    assertAccount(account, { id: connReq.connectedAccountId, appName: 'serpapi', entityId, integrationId: integration.id });
    assert.equal(account.enabled, true);
    assert.equal(account.isDisabled, false);
    assert.equal(typeof account.connectionParams, 'object');
    assert.equal(account.connectionParams.base_url, 'https://serpapi.com');
    const masked = account.connectionParams.generic_api_key;
    assert.equal(typeof masked, 'string', 'the key field is present, masked');
    assert.notEqual(masked, SERP_KEY);
    assertNoSecrets(account, 'connectedAccounts.get');
  });

  test('entity.getConnection({app}) and ({appName}) find the account (list by user_uuid, then get) (§4)', async () => {
    const entity = composio.getEntity(entityId);
    for (const arg of [{ app: 'serpapi' }, { appName: 'serpapi' }, { app: 'SERPAPI' }]) {
      const account = keep(await entity.getConnection(arg));
      assert.deepEqual(composio.sent.take(), [
        `GET /api/v1/connectedAccounts?user_uuid=${entityId}`,
        `GET /api/v1/connectedAccounts/${connReq.connectedAccountId}`,
      ]);
      assertAccount(account, { id: connReq.connectedAccountId, appName: 'serpapi', entityId, integrationId: integration.id });
    }
    // By id: only the GET.
    const byId = keep(await entity.getConnection({ connectedAccountId: connReq.connectedAccountId }));
    assert.deepEqual(composio.sent.take(), [`GET /api/v1/connectedAccounts/${connReq.connectedAccountId}`]);
    assert.equal(byId.id, connReq.connectedAccountId);
    // An app this entity has no account for.
    await rejectsComposioCode(entity.getConnection({ app: 'github' }), 'SDK::NO_CONNECTED_ACCOUNT_FOUND');
    composio.sent.take();
  });

  test('composio.connectedAccounts.list({entityId}), ({user_uuid}) and ({integrationId}) contain it, with appName', async () => {
    for (const q of [{ entityId }, { user_uuid: entityId }, { integrationId: integration.id }]) {
      const res = keep(await composio.connectedAccounts.list(q));
      const [sent] = composio.sent.take();
      assert.match(sent, /^GET \/api\/v1\/connectedAccounts\?/);
      assert.ok(Array.isArray(res.items));
      assert.equal(typeof res.totalPages, 'number');
      assert.equal(res.page, 1);
      const item = res.items.find((i) => i.id === connReq.connectedAccountId);
      assert.ok(item, `listed for ${JSON.stringify(q)}`);
      assertAccount(item, { id: connReq.connectedAccountId, appName: 'serpapi', entityId, integrationId: integration.id });
      assertNoSecrets(res, 'connectedAccounts.list');
    }
    const byEntity = await composio.connectedAccounts.list({ entityId });
    composio.sent.take();
    assert.deepEqual(byEntity.items.map((i) => i.id), [connReq.connectedAccountId], 'only this entity\'s accounts');
  });

  test('composio.connectedAccounts.disable / enable (no body) flip the account', async () => {
    const id = connReq.connectedAccountId;
    const off = keep(await composio.connectedAccounts.disable({ connectedAccountId: id }));
    assert.deepEqual(composio.sent.take(), [`POST /api/v1/connectedAccounts/${id}/disable`]);
    assert.deepEqual(off, { status: 'success', connectedAccountId: id });
    const disabled = keep(await composio.connectedAccounts.get({ connectedAccountId: id }));
    assert.equal(disabled.isDisabled, true);
    assert.equal(disabled.enabled, false);
    assert.equal(disabled.status, 'ACTIVE', 'disabling keeps the status');
    const listed = keep(await composio.connectedAccounts.list({ entityId, showDisabled: true }));
    assert.equal(listed.items.find((i) => i.id === id)?.isDisabled, true);
    composio.sent.take();

    const on = keep(await composio.connectedAccounts.enable({ connectedAccountId: id }));
    assert.deepEqual(composio.sent.take(), [`POST /api/v1/connectedAccounts/${id}/enable`]);
    assert.deepEqual(on, { status: 'success', connectedAccountId: id });
    const enabled = keep(await composio.connectedAccounts.get({ connectedAccountId: id }));
    composio.sent.take();
    assert.equal(enabled.isDisabled, false);
    assert.equal(enabled.enabled, true);
  });

  test('a missing required field → BACKEND::BAD_REQUEST whose description names the field (§2)', async () => {
    const entity = composio.getEntity(entityId);
    const err = await rejectsComposio(
      entity.initiateConnection({ appName: 'serpapi', integrationId: integration.id, authMode: 'API_KEY', connectionParams: {} }),
      'BACKEND::BAD_REQUEST',
      400,
    );
    composio.sent.take();
    // §2: message "<body.name> - <body.type> on <url>"; description "Validation Errors: " + JSON(body.details).
    assert.match(err.message, /^BadRequestError - \S+ on /);
    assert.ok(err.message.endsWith(` on ${BASE}/api/v2/connectedAccounts/initiateConnection`), err.message);
    assert.match(err.description, /^Validation Errors: /);
    assert.match(err.description, /generic_api_key/, `the description names the missing field: ${err.description}`);
    assert.match(err.description, /missing required/);
    // Nothing was created for this entity.
    const { items } = await composio.connectedAccounts.list({ entityId });
    composio.sent.take();
    assert.deepEqual(items.map((i) => i.id), [connReq.connectedAccountId]);
  });

  test('an unknown integration id → BACKEND::NOT_FOUND, on get and on initiateConnection', async () => {
    const unknown = 'ac_doesNotExist00000';
    const err = await rejectsComposio(composio.integrations.get({ integrationId: unknown }), 'BACKEND::NOT_FOUND', 404);
    assert.match(err.message, /^NotFoundError - \S+ on /);
    assert.ok(err.message.endsWith(` on ${BASE}/api/v1/integrations/${unknown}`), err.message);
    assert.match(err.description, new RegExp(unknown), 'description is the server message');
    await rejectsComposio(composio.integrations.getRequiredParams({ integrationId: unknown }), 'BACKEND::NOT_FOUND', 404);
    await rejectsComposio(
      composio.getEntity(entityId).initiateConnection({ integrationId: unknown, authMode: 'API_KEY', connectionParams: { api_key: SERP_KEY } }),
      'BACKEND::NOT_FOUND',
      404,
    );
    await rejectsComposio(composio.connectedAccounts.get({ connectedAccountId: 'ca_doesNotExist00000' }), 'BACKEND::NOT_FOUND', 404);
    composio.sent.take();
  });

  test('composio.connectedAccounts.delete({connectedAccountId}); then get → BACKEND::NOT_FOUND', async () => {
    const id = connReq.connectedAccountId;
    const res = keep(await composio.connectedAccounts.delete({ connectedAccountId: id }));
    assert.deepEqual(composio.sent.take(), [`DELETE /api/v1/connectedAccounts/${id}`]);
    assert.equal(res.status, 'success');
    await rejectsComposio(composio.connectedAccounts.get({ connectedAccountId: id }), 'BACKEND::NOT_FOUND', 404);
    const { items } = await composio.connectedAccounts.list({ entityId });
    composio.sent.take();
    assert.ok(!items.some((i) => i.id === id), 'a deleted account is not listed');
  });

  test('composio.integrations.delete({integrationId}) deletes it with its accounts', async () => {
    // One more account through the integration, to see it go with it.
    const req = keep(
      await composio.getEntity(entityId).initiateConnection({ integrationId: integration.id, authMode: 'API_KEY', connectionParams: { api_key: SERP_KEY_2 } }),
    );
    assert.equal(req.connectionStatus, 'ACTIVE');
    const res = keep(await composio.integrations.delete({ integrationId: integration.id }));
    const sent = composio.sent.take();
    assert.equal(sent.at(-1), `DELETE /api/v1/integrations/${integration.id}`);
    assert.equal(res.status, 'success');
    await rejectsComposio(composio.integrations.get({ integrationId: integration.id }), 'BACKEND::NOT_FOUND', 404);
    await rejectsComposio(composio.connectedAccounts.get({ connectedAccountId: req.connectedAccountId }), 'BACKEND::NOT_FOUND', 404);
    const { items } = await composio.integrations.list({ appName: 'serpapi' });
    assert.ok(!items.some((i) => i.id === integration.id), 'a deleted integration is not listed');
    // The auto-created one goes too.
    const fresh = keep(await composio.integrations.delete({ integrationId: freshApp.integrationId }));
    assert.equal(fresh.status, 'success');
    composio.sent.take();
  });
});

describe('composio-core 0.5.39: OpenAIToolSet, connecting by appName only (BEARER_TOKEN, BASIC)', () => {
  // The seed flow's toolset. Framework toolsets ignore COMPOSIO_BASE_URL
  // (§1), so baseUrl is passed explicitly.
  const toolset = new OpenAIToolSet({ apiKey: cfg.ownerKey, baseUrl: cfg.baseURL });
  const sent = recordRequests(toolset.client);
  const entityId = uniqueName('flow-entity-toolset');
  let github; // the GitHub account
  let twilio; // the Twilio account

  test('new OpenAIToolSet({apiKey, baseUrl}) talks to the given base URL', () => {
    assert.equal(toolset.client.backendClient.baseUrl, BASE);
    assert.equal(toolset.backendClient.baseUrl, BASE);
    assert.equal(toolset.apiKey, cfg.ownerKey);
  });

  test('github: entity.initiateConnection({appName, authMode:"BEARER_TOKEN", connectionParams:{token}}) → ACTIVE', async () => {
    const entity = await toolset.getEntity(entityId);
    const req = keep(await entity.initiateConnection({ appName: 'github', authMode: 'BEARER_TOKEN', connectionParams: { token: GH_TOKEN } }));
    assert.deepEqual(sent.take(), ['POST /api/v2/connectedAccounts/initiateConnection']);
    assert.equal(req.connectionStatus, 'ACTIVE');
    assert.equal(req.redirectUrl, null);
    github = keep(await toolset.connectedAccounts.get({ connectedAccountId: req.connectedAccountId }));
    assertAccount(github, { id: req.connectedAccountId, appName: 'github', entityId });
    assert.equal(github.connectionParams.base_url, 'https://api.github.com');
    assert.equal(typeof github.connectionParams.token, 'string');
    assert.notEqual(github.connectionParams.token, GH_TOKEN);
    assertNoSecrets(github, 'connectedAccounts.get (github)');
    sent.take();
  });

  test('the server found or created a BEARER_TOKEN integration for github; a second connection reuses it', async () => {
    const integ = keep(await toolset.integrations.get({ integrationId: github.integrationId }));
    assert.equal(integ.appName, 'github');
    assert.equal(integ.authScheme, 'BEARER_TOKEN');
    assert.deepEqual(integ.expectedInputFields.map((f) => f.name), ['token']);
    const listed = keep(await toolset.integrations.list({ appName: 'github' }));
    assert.ok(listed.items.some((i) => i.id === github.integrationId));
    // getExpectedParamsForUser lives on Composio: from a toolset, toolset.client (§4).
    const expected = keep(await toolset.client.getExpectedParamsForUser({ app: 'github', authScheme: 'BEARER_TOKEN' }));
    assert.equal(expected.authScheme, 'BEARER_TOKEN');
    assert.deepEqual(expected.expectedInputFields.map((f) => f.name), ['token']);
    assert.equal(typeof expected.integrationId, 'string');

    const entity = await toolset.getEntity(uniqueName('flow-entity-toolset'));
    const req = keep(await entity.initiateConnection({ appName: 'github', authMode: 'BEARER_TOKEN', connectionParams: { token: GH_TOKEN } }));
    const second = keep(await toolset.connectedAccounts.get({ connectedAccountId: req.connectedAccountId }));
    assert.equal(second.integrationId, github.integrationId, 'app + scheme → the same integration');
    sent.take();
  });

  test('twilio: entity.initiateConnection({appName, authMode:"BASIC", connectionParams:{username, password}}) → ACTIVE', async () => {
    const entity = await toolset.getEntity(entityId);
    const req = keep(await entity.initiateConnection({ appName: 'twilio', authMode: 'BASIC', connectionParams: { username: TW_SID, password: TW_TOKEN } }));
    assert.deepEqual(sent.take(), ['POST /api/v2/connectedAccounts/initiateConnection']);
    assert.equal(req.connectionStatus, 'ACTIVE');
    assert.equal(req.redirectUrl, null);
    twilio = keep(await req.waitUntilActive(5));
    assertAccount(twilio, { id: req.connectedAccountId, appName: 'twilio', entityId });
    assert.equal(twilio.connectionParams.username, TW_SID, 'the Account SID is not a secret');
    assert.equal(typeof twilio.connectionParams.password, 'string');
    assert.notEqual(twilio.connectionParams.password, TW_TOKEN);
    const integ = keep(await toolset.integrations.get({ integrationId: twilio.integrationId }));
    assert.equal(integ.authScheme, 'BASIC');
    assert.deepEqual(integ.expectedInputFields.map((f) => f.name).sort(), ['password', 'username']);
    sent.take();
  });

  test('twilio without the password → BACKEND::BAD_REQUEST naming "password"', async () => {
    const entity = await toolset.getEntity(entityId);
    const err = await rejectsComposio(
      entity.initiateConnection({ appName: 'twilio', authMode: 'BASIC', connectionParams: { username: TW_SID } }),
      'BACKEND::BAD_REQUEST',
      400,
    );
    assert.match(err.description, /password/, err.description);
    sent.take();
  });

  test('entity.getConnection picks each app\'s account; connectedAccounts.list({entityId}) has both', async () => {
    const entity = await toolset.getEntity(entityId);
    assert.equal((await entity.getConnection({ app: 'github' })).id, github.id);
    assert.equal((await entity.getConnection({ appName: 'twilio' })).id, twilio.id);
    const { items } = keep(await toolset.connectedAccounts.list({ entityId }));
    assert.deepEqual(items.map((i) => i.appName).sort(), ['github', 'twilio']);
    sent.take();
  });

  test('toolset.connectedAccounts.delete both', async () => {
    for (const a of [github, twilio]) {
      const res = keep(await toolset.connectedAccounts.delete({ connectedAccountId: a.id }));
      assert.equal(res.status, 'success');
      await rejectsComposio(toolset.connectedAccounts.get({ connectedAccountId: a.id }), 'BACKEND::NOT_FOUND', 404);
    }
    sent.take();
  });
});

describe('composio-core 0.5.39: a revoked key through an SDK method (apps.list)', () => {
  const raw = legacy().backendClient.instance; // the SDK's configured client, as in legacy-keys
  let created; // {id, key} of the key this flow creates and revokes

  test('composio.apps.list() with a live key: every app, with auth_schemes', async () => {
    const composio = legacy();
    const apps = keep(await composio.apps.list());
    assert.deepEqual(composio.sent.take(), ['GET /api/v1/apps?additionalFields=auth_schemes']);
    assert.ok(Array.isArray(apps));
    const serp = apps.find((a) => a.key === 'serpapi');
    assert.ok(serp, 'serpapi is listed');
    assert.equal(typeof serp.appId, 'string');
    assert.deepEqual(serp.auth_schemes.map((s) => s.mode), ['API_KEY']);
    assert.ok(apps.every((a) => typeof a.key === 'string' && typeof a.appId === 'string' && Array.isArray(a.auth_schemes)));
  });

  test('a new key works for apps.list()', async () => {
    created = (await raw.post({ url: '/api/v1/api_keys', body: { name: uniqueName('compat-legacy-connect') } })).data;
    assert.match(created.key, /^ak_/);
    const apps = await legacy(created.key).apps.list();
    assert.ok(apps.length > 0);
  });

  test('revoked, it gets ComposioError BACKEND::UNAUTHORIZED "🔑 Access Denied", statusCode 401, every time', async () => {
    assert.deepEqual((await raw.delete({ url: '/api/v1/api_keys/{id}', path: { id: created.id } })).data, { deleted: true });
    const revoked = legacy(created.key);
    for (let i = 0; i < 2; i++) {
      const err = await rejectsComposio(revoked.apps.list(), 'BACKEND::UNAUTHORIZED', 401);
      assert.equal(err.message, '🔑 Access Denied', '§2: a fixed message for 401');
      assert.equal(typeof err.description, 'string');
      assert.ok(err.description.length > 0, 'description is the server message');
      assert.equal(err.metadata.method, 'GET');
      assert.equal(err.metadata.fullUrl, `${BASE}/api/v1/apps`);
    }
    // Any other SDK method too, a write included.
    await rejectsComposio(revoked.integrations.list({ appName: 'serpapi' }), 'BACKEND::UNAUTHORIZED', 401);
    await rejectsComposio(
      revoked.integrations.create({ name: uniqueName('x'), appUniqueKey: 'serpapi', authScheme: 'API_KEY', useComposioAuth: false, authConfig: {} }),
      'BACKEND::UNAUTHORIZED',
      401,
    );
  });

  test('the live key still works', async () => {
    assert.ok((await legacy().apps.list()).length > 0);
  });
});

// Kept last: every result the SDK handed back, checked once more as a whole.
test('no SDK result ever carried a credential in plaintext', () => {
  assert.ok(results.length > 20, `${results.length} results kept`);
  assertNoSecrets(results, 'an SDK result');
});

test('off-host traffic: none', () => {
  assert.deepEqual(guard().attempts, []);
});
