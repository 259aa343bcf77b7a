// Project keys, projects and leaked-key revocation with the current SDK,
// @composio/core 0.21.0 over @composio/client 2.0.0-rc.6
// (contract: shared/contracts/composio-v3.md §0, §1, §1.5, §3.5, §5).
//
// core 0.21 has no high-level API for keys (§3.5): the flow uses the SDK's
// configured API client, composio.getClient(), exactly as a user would.
// Errors are the client's Stainless-style classes (§1.2), exported by
// @composio/client (core does not re-export them).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Composio } from '@composio/core';
import { APIError, AuthenticationError, NotFoundError, PermissionDeniedError } from '@composio/client';

import { config, guard, uniqueName } from '../lib/flow.mjs';

const cfg = config();

// §1.5: with allowTracking:false and disableVersionCheck:true the SDK makes
// no off-host request at all; the last test checks it, and so does the
// harness (TELEMETRY_DISABLED=true is set as well).
const composio = (opts) => new Composio({ baseURL: cfg.baseURL, allowTracking: false, disableVersionCheck: true, ...opts });
/** A client that authenticates with a project key only (x-api-key). */
const projectClient = (apiKey) => composio({ apiKey }).getClient();
/** A client that authenticates with an organization key only (x-org-api-key). */
const orgClient = (orgApiKey) => composio({ apiKey: null, orgApiKey }).getClient();

/** Asserts that p rejects with cls and HTTP status, in the v3 error envelope (§4.8). */
async function rejectsWith(p, cls, status) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${caught?.constructor?.name}: ${caught?.message}`);
  assert.ok(caught instanceof APIError);
  assert.equal(caught.status, status);
  const e = caught.error?.error;
  assert.equal(typeof e, 'object', `v3 error envelope {error:{…}}: ${JSON.stringify(caught.error)}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(e.status, status);
  assert.equal(typeof e.code, 'number');
  assert.equal(typeof e.request_id, 'string');
  assert.equal(caught.message, `${status} ${JSON.stringify(caught.error)}`, 'client message: "<status> " + JSON(body) (§1.2)');
  return caught;
}

/**
 * Counts the client's attempts at one request: the API client logs each
 * attempt ("Sending request", with its attempt number) at debug level. The
 * SDK logger is a process-wide singleton, so it is restored afterwards.
 */
async function withRequestLog(fn) {
  const lines = [];
  const sink = { error: () => {}, warn: () => {}, info: () => {}, debug: (...a) => lines.push(a.join(' ')) };
  try {
    return await fn({ logLevel: 'debug', logger: sink }, () => lines.filter((l) => l.includes('Sending request')).length);
  } finally {
    composio({ logLevel: 'info', logger: console });
  }
}

describe('@composio/core 0.21.0: who am I', () => {
  test('client.auth.session.retrieveInfo() with the owner project key', async () => {
    const info = await projectClient(cfg.ownerKey).auth.session.retrieveInfo();
    assert.equal(typeof info.project?.id, 'string');
    assert.equal(typeof info.project.org_id, 'string');
    assert.equal(info.project.deleted, false);
    assert.equal(info.api_key.project_id, info.project.id);
    assert.equal(info.api_key.name, 'compat-owner');
    assert.equal(info.api_key.deleted, false);
    assert.notEqual(info.api_key.key, cfg.ownerKey, 'the key is masked');
    assert.ok(!JSON.stringify(info).includes(cfg.ownerKey), 'no plaintext key in the answer');
    assert.equal(info.org_member.role, 'owner');
    assert.equal(info.org_member.id, info.api_key.org_member_id);
  });

  test('the COMPOSIO_API_KEY environment variable is honoured (no apiKey option)', async () => {
    const info = await composio({}).getClient().auth.session.retrieveInfo();
    assert.equal(info.api_key.name, 'compat-owner');
  });

  test('a member-role project key says so', async () => {
    const info = await projectClient(cfg.memberKey).auth.session.retrieveInfo();
    assert.equal(info.org_member.role, 'member');
    assert.equal(info.api_key.org_member_id, info.org_member.id);
  });

  test('an unknown key → AuthenticationError 401, not retried', async () => {
    await withRequestLog(async (logOpts, attempts) => {
      const client = composio({ apiKey: 'ak_thisKeyDoesNotExist0000000000000', ...logOpts }).getClient();
      const err = await rejectsWith(client.auth.session.retrieveInfo(), AuthenticationError, 401);
      assert.equal(err.headers.get('x-should-retry'), 'false');
      assert.equal(attempts(), 1);
    });
  });
});

describe('@composio/core 0.21.0: projects and their keys, with an organization key', () => {
  const name = uniqueName('compat-v3');
  let project; // {id, name, api_key} from create
  let regenerated; // the regenerate_api_key answer

  test('client.org.owner.project.create({name, should_create_api_key:true}) → {id, name, api_key}', async () => {
    project = await orgClient(cfg.orgKey).org.owner.project.create({ name, should_create_api_key: true });
    assert.equal(typeof project.id, 'string');
    assert.equal(project.name, name);
    assert.equal(typeof project.api_key, 'string');
    assert.match(project.api_key, /^ak_[A-Za-z0-9]{20,}$/);
  });

  test('the new project key works and belongs to the new project', async () => {
    const info = await projectClient(project.api_key).auth.session.retrieveInfo();
    assert.equal(info.project.id, project.id);
    assert.equal(info.project.name, name);
    assert.equal(info.api_key.project_id, project.id);
  });

  test('without should_create_api_key there is no key: api_key null', async () => {
    const p = await orgClient(cfg.orgKey).org.owner.project.create({ name: `${name}-nokey` });
    assert.equal(p.api_key, null);
    assert.deepEqual((await orgClient(cfg.orgKey).org.owner.project.delete(p.id)).status, 'success');
  });

  test('.retrieve(id): the project, its keys masked', async () => {
    const p = await orgClient(cfg.orgKey).org.owner.project.retrieve(project.id);
    assert.equal(p.id, project.id);
    assert.equal(p.name, name);
    assert.equal(typeof p.org_id, 'string');
    assert.equal(p.deleted, false);
    assert.ok(['V1', 'V2', 'V3'].includes(p.webhook_version), `webhook_version ${p.webhook_version}`);
    assert.ok(!Number.isNaN(Date.parse(p.created_at)));
    assert.ok(Array.isArray(p.api_keys));
    assert.equal(p.api_keys.length, 1);
    assert.notEqual(p.api_keys[0].key, project.api_key);
    assert.ok(!JSON.stringify(p).includes(project.api_key), 'no plaintext key');
  });

  test('.list(): the projects are under "data", and limit/cursor page through them', async () => {
    const client = orgClient(cfg.orgKey);
    const all = await client.org.owner.project.list();
    assert.ok(Array.isArray(all.data), 'response key is "data" (§3.5)');
    assert.ok(all.data.some((p) => p.id === project.id));
    assert.ok(all.data.length >= 2, 'the default project and this one');

    const first = await client.org.owner.project.list({ limit: 1 });
    assert.equal(first.data.length, 1);
    assert.equal(typeof first.next_cursor, 'string');
    const second = await client.org.owner.project.list({ limit: 1, cursor: first.next_cursor });
    assert.equal(second.data.length, 1);
    assert.notEqual(second.data[0].id, first.data[0].id);
  });

  test('.regenerateAPIKey(id) → a new key, shown once', async () => {
    regenerated = await orgClient(cfg.orgKey).org.owner.project.regenerateAPIKey(project.id);
    assert.equal(typeof regenerated.message, 'string');
    assert.equal(typeof regenerated.api_key.id, 'string');
    assert.equal(typeof regenerated.api_key.name, 'string');
    assert.ok(!Number.isNaN(Date.parse(regenerated.api_key.created_at)));
    assert.match(regenerated.api_key.key, /^ak_[A-Za-z0-9]{20,}$/);
    assert.notEqual(regenerated.api_key.key, project.api_key);
  });

  test('after regeneration the old key fails (AuthenticationError 401) and the new one works', async () => {
    await rejectsWith(projectClient(project.api_key).auth.session.retrieveInfo(), AuthenticationError, 401);
    const info = await projectClient(regenerated.api_key.key).auth.session.retrieveInfo();
    assert.equal(info.project.id, project.id);
    assert.equal(info.api_key.id, regenerated.api_key.id);
  });

  test('leaked-key report: client.apiKeyRevocation.create({api_keys:[victim]}) → {received:true}', async () => {
    // The victim works before the report.
    await projectClient(regenerated.api_key.key).auth.session.retrieveInfo();
    const res = await projectClient(cfg.ownerKey).apiKeyRevocation.create({ api_keys: [regenerated.api_key.key] });
    assert.deepEqual(res, { received: true });
  });

  test('the reported key fails at once and every time: AuthenticationError 401, no retries', async () => {
    await withRequestLog(async (logOpts, attempts) => {
      const victim = composio({ apiKey: regenerated.api_key.key, ...logOpts }).getClient();
      const err = await rejectsWith(victim.auth.session.retrieveInfo(), AuthenticationError, 401);
      assert.equal(err.headers.get('x-should-retry'), 'false');
      await rejectsWith(victim.auth.session.retrieveInfo(), AuthenticationError, 401);
      assert.equal(attempts(), 2, 'one attempt per call: 401 is never retried');
    });
  });

  test('a report never reveals whether a key matched: unknown and malformed keys → {received:true}', async () => {
    const res = await projectClient(cfg.ownerKey).apiKeyRevocation.create({
      api_keys: ['ak_thisKeyDoesNotExist0000000000000', 'not-a-key'],
    });
    assert.deepEqual(res, { received: true });
    // The reporter's own key is untouched.
    await projectClient(cfg.ownerKey).auth.session.retrieveInfo();
  });

  test('.delete(id) → {status:"success"}; then retrieve → NotFoundError 404', async () => {
    const client = orgClient(cfg.orgKey);
    const res = await client.org.owner.project.delete(project.id);
    assert.equal(res.status, 'success');
    await rejectsWith(client.org.owner.project.retrieve(project.id), NotFoundError, 404);
    const all = await client.org.owner.project.list();
    assert.ok(!all.data.some((p) => p.id === project.id), 'a deleted project is not listed');
  });
});

describe('@composio/core 0.21.0: role and credential checks', () => {
  test('a member-role organization key may not create a project: PermissionDeniedError 403', async () => {
    const err = await rejectsWith(
      orgClient(cfg.memberOrgKey).org.owner.project.create({ name: uniqueName('compat-member'), should_create_api_key: true }),
      PermissionDeniedError,
      403,
    );
    assert.match(err.error.error.message, /member/);
  });

  test('a member-role organization key may not regenerate a project key: PermissionDeniedError 403', async () => {
    const info = await projectClient(cfg.ownerKey).auth.session.retrieveInfo();
    await rejectsWith(orgClient(cfg.memberOrgKey).org.owner.project.regenerateAPIKey(info.project.id), PermissionDeniedError, 403);
    // The owner key of that project was not touched.
    await projectClient(cfg.ownerKey).auth.session.retrieveInfo();
  });

  test('a project key given as the organization key → AuthenticationError 401', async () => {
    await rejectsWith(orgClient(cfg.ownerKey).org.owner.project.list(), AuthenticationError, 401);
  });
});

test('off-host traffic: none (allowTracking:false, disableVersionCheck:true)', () => {
  assert.deepEqual(guard().attempts, []);
});
