// Seed flow "Revoke API key" with the legacy SDK, composio-core 0.5.39
// (contract: shared/contracts/composio-legacy-v1.md §1, §2, §3.1, §5).
//
// composio-core has no public method for API keys (§3.1): a flow reaches them
// through the SDK's own configured HTTP client,
//   composio.backendClient.instance.{get,post,delete}({url, path, body})
// (a @hey-api/client-axios client with throwOnError:true, so a non-2xx
// status rejects with the raw AxiosError; the SDK's ComposioError mapper,
// CEG.handleAllError, runs only inside SDK model methods such as apps.list).
//
// The revoked key through an SDK method (apps.list → ComposioError
// BACKEND::UNAUTHORIZED) is in legacy-connect.test.mjs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Composio, ComposioError } from 'composio-core';

import { config, disableLegacyVersionCheck, guard, uniqueName } from '../lib/flow.mjs';

// composio-core 0.5.39 would check npm on every `new Composio()`; no option
// turns that off, so the flow turns it off itself (see lib/flow.mjs). With
// telemetry off too, the flow makes no off-host attempt; the last test
// checks it.
disableLegacyVersionCheck(Composio);

const cfg = config();
const KEYS = '/api/v1/api_keys';

const legacy = (apiKey) => new Composio({ apiKey, baseUrl: cfg.baseURL });
const raw = (apiKey) => legacy(apiKey).backendClient.instance;

/** Asserts that p rejects with axios' error for HTTP status; returns the body. */
async function rejectsWithStatus(p, status) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return true;
  });
  assert.equal(caught.name, 'AxiosError', `expected an AxiosError, got ${caught?.name}: ${caught?.message}`);
  assert.equal(caught.isAxiosError, true);
  assert.ok(!(caught instanceof ComposioError), 'the raw client does not map errors to ComposioError');
  assert.equal(caught.response?.status, status, `expected HTTP ${status}, got ${caught.response?.status}: ${JSON.stringify(caught.response?.data)}`);
  const body = caught.response.data;
  // §2: the error mapper reads message (main), name, type; status and requestId ride along.
  assert.equal(typeof body, 'object');
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.equal(body.status, status);
  assert.equal(typeof body.requestId, 'string');
  assert.equal(caught.response.headers['content-type']?.split(';')[0], 'application/json');
  return body;
}

/** Checks one APIKeyResDTO of a listing (§3.1). */
function assertListedKey(k) {
  assert.equal(typeof k.id, 'string');
  assert.equal(typeof k.name, 'string');
  assert.ok(!Number.isNaN(Date.parse(k.createdAt)), `createdAt ${k.createdAt}`);
  assert.ok(!Number.isNaN(Date.parse(k.updatedAt)), `updatedAt ${k.updatedAt}`);
  assert.equal(typeof k.key, 'string');
  assert.equal(k.isHidden, true, 'listed keys are hidden');
  assert.equal(typeof k.member, 'object');
  assert.ok(k.status === 'active' || k.status === 'revoked', `status ${k.status}`);
}

describe('composio-core 0.5.39: revoke an API key', () => {
  const name = uniqueName('compat-legacy');
  let created; // the APIKeyResDTO of the key this flow creates

  test('new Composio({apiKey, baseUrl}) configures the raw client with the base URL (no handshake)', () => {
    const c = legacy(cfg.ownerKey);
    assert.equal(c.backendClient.baseUrl, cfg.baseURL.replace(/\/+$/, ''));
    assert.equal(typeof c.backendClient.instance.get, 'function');
  });

  test('list keys: GET /api/v1/api_keys is a bare array of APIKeyResDTO, plaintext never listed', async () => {
    const res = await raw(cfg.ownerKey).get({ url: KEYS });
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.data), 'a bare JSON array');
    assert.ok(res.data.length >= 1);
    res.data.forEach(assertListedKey);
    const owner = res.data.find((k) => k.name === 'compat-owner');
    assert.ok(owner, 'the harness key "compat-owner" is listed');
    assert.equal(owner.status, 'active');
    assert.equal(owner.member.role, 'owner');
    const body = JSON.stringify(res.data);
    for (const secret of [cfg.ownerKey, cfg.memberKey]) {
      assert.ok(!body.includes(secret), 'a listing never carries a plaintext key');
    }
  });

  test('create a key: POST /api/v1/api_keys {name} returns the plaintext key once', async () => {
    const res = await raw(cfg.ownerKey).post({ url: KEYS, body: { name } });
    assert.ok(res.status === 200 || res.status === 201, `status ${res.status}`);
    created = res.data;
    assert.equal(created.name, name);
    assert.equal(typeof created.id, 'string');
    assert.match(created.key, /^ak_[A-Za-z0-9]{20,}$/);
    assert.equal(created.isHidden, false);
    assert.equal(created.status, 'active');
    assert.equal(created.member.role, 'owner');
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));

    const list = (await raw(cfg.ownerKey).get({ url: KEYS })).data;
    const listed = list.find((k) => k.id === created.id);
    assert.ok(listed, 'the new key is listed');
    assert.equal(listed.name, name);
    assert.notEqual(listed.key, created.key, 'listed masked, not in plaintext');
  });

  test('the new key works: a fresh Composio with it lists keys (200)', async () => {
    const res = await raw(created.key).get({ url: KEYS });
    assert.equal(res.status, 200);
    assert.ok(res.data.some((k) => k.id === created.id));
  });

  test('revoke it: DELETE /api/v1/api_keys/{id} → {deleted:true}', async () => {
    const res = await raw(cfg.ownerKey).delete({ url: `${KEYS}/{id}`, path: { id: created.id } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, { deleted: true });
  });

  test('the listing shows it revoked', async () => {
    const list = (await raw(cfg.ownerKey).get({ url: KEYS })).data;
    const k = list.find((x) => x.id === created.id);
    assert.ok(k, 'a revoked key stays listed, marked');
    assert.equal(k.status, 'revoked');
    assert.equal(k.revoked, true);
    assert.ok(!Number.isNaN(Date.parse(k.revokedAt)));
  });

  test('the revoked key is refused at once: 401 with a JSON message (§2: never 403)', async () => {
    const body = await rejectsWithStatus(raw(created.key).get({ url: KEYS }), 401);
    assert.equal(body.name, 'UnauthorizedError');
    // And every time, on any route, also a write.
    await rejectsWithStatus(raw(created.key).post({ url: KEYS, body: { name: `${name}-again` } }), 401);
  });

  test('revoking an unknown key id → 404', async () => {
    await rejectsWithStatus(raw(cfg.ownerKey).delete({ url: `${KEYS}/{id}`, path: { id: 'key_doesnotexist00' } }), 404);
  });

  test('the owner key still works after the revocation of another key', async () => {
    const res = await raw(cfg.ownerKey).get({ url: KEYS });
    assert.equal(res.status, 200);
  });
});

describe('composio-core 0.5.39: a member-role key', () => {
  test('may list keys', async () => {
    const res = await raw(cfg.memberKey).get({ url: KEYS });
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.data));
  });

  // The server answers a role failure with 403. Through the raw client (the
  // only way to reach the key endpoints from composio-core) that surfaces as
  // a plain AxiosError with response.status 403. Contract §2: had it gone
  // through composio-core's error mapper (the SDK model methods), a 403 would
  // crash the mapper itself and the caller would get a TypeError instead of
  // a ComposioError; no SDK model method reaches a role-restricted endpoint
  // today, so that path is not exercised here.
  test('may not create a key: 403 ForbiddenError body, an AxiosError (not a ComposioError)', async () => {
    const body = await rejectsWithStatus(raw(cfg.memberKey).post({ url: KEYS, body: { name: uniqueName('compat-member') } }), 403);
    assert.equal(body.name, 'ForbiddenError');
    assert.match(body.message, /member/);
  });

  test('may not revoke a key: 403', async () => {
    const list = (await raw(cfg.ownerKey).get({ url: KEYS })).data;
    const owner = list.find((k) => k.name === 'compat-owner');
    await rejectsWithStatus(raw(cfg.memberKey).delete({ url: `${KEYS}/{id}`, path: { id: owner.id } }), 403);
    // ... and nothing was revoked.
    assert.equal((await raw(cfg.ownerKey).get({ url: KEYS })).status, 200);
  });
});

describe('composio-core 0.5.39: other credentials', () => {
  test('an unknown key → 401', async () => {
    await rejectsWithStatus(raw('ak_thisKeyDoesNotExist0000000000000').get({ url: KEYS }), 401);
  });

  test('an organization key on a project endpoint → 401', async () => {
    await rejectsWithStatus(raw(cfg.orgKey).get({ url: KEYS }), 401);
  });
});

// Kept last: any fire-and-forget request has been attempted by now.
test('off-host traffic: none', () => {
  // Telemetry is off (TELEMETRY_DISABLED=true) and the version check too:
  // nothing left this process. composio-core's telemetry senders would be
  // sub-processes; they are guarded through NODE_OPTIONS and checked by the
  // harness.
  assert.deepEqual(guard().attempts, []);
});
