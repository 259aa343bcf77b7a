// MCP server configurations with @composio/core 0.21.0 (composio.mcp.*),
// then the official MCP TypeScript client (@modelcontextprotocol/sdk)
// connected to the URL the SDK generated (contract:
// shared/contracts/composio-mcp.md §2, §3.2, §4).
//
// A GitHub user is connected with a bearer token; patchbay's GitHub base
// URL points at the fake app (lib/fakeapp.mjs), so the tool the MCP
// client calls reaches it and the flow reads what patchbay sent. The SDK
// validates mcp.* answers SOFTLY (a missing field only logs a warning), so
// its logger goes to a sink and every step checks that it logged nothing;
// generate validates HARD and throws.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { AuthScheme, Composio } from '@composio/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { fakeApp } from '../lib/fakeapp.mjs';
import { config, uniqueName } from '../lib/flow.mjs';

const cfg = config();
const BASE = cfg.baseURL.replace(/\/+$/, '');
const fake = fakeApp();

const logged = [];
const sink = {
  error: (...a) => logged.push(`error: ${a.join(' ')}`),
  warn: (...a) => logged.push(`warn: ${a.join(' ')}`),
  info: () => {},
  debug: () => {},
};
const takeLogged = () => logged.splice(0);

const sdk = new Composio({ baseURL: cfg.baseURL, apiKey: cfg.ownerKey, allowTracking: false, disableVersionCheck: true, logger: sink, logLevel: 'warn' });

const GH_TOKEN = `ghp_mcp${randomBytes(16).toString('hex')}`;
const ALLOWED = ['GITHUB_GET_THE_AUTHENTICATED_USER', 'GITHUB_GET_A_REPOSITORY'];
// The name rule of Composio's API: 4–30 of [A-Za-z0-9 -].
const serverName = () => `mcp ${randomBytes(4).toString('hex')}`;

/** An MCP client connected to url, sending headers with every request. */
async function mcpClient(url, headers = {}) {
  const client = new Client({ name: 'patchbay-compat', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const textOf = (res) => res.content.filter((c) => c.type === 'text').map((c) => c.text).join('');

describe('composio.mcp.* and an MCP client', () => {
  const userId = uniqueName('mcp-user');
  let ac;
  let account;
  let server;
  const clients = [];

  before(async () => {
    await fake.reset();
    ac = await sdk.authConfigs.create('github', { type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {} });
    account = await sdk.connectedAccounts.initiate(userId, ac.id, { config: AuthScheme.BearerToken({ token: GH_TOKEN }) });
    takeLogged();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (account) await sdk.connectedAccounts.delete(account.id).catch(() => {});
    if (ac) await sdk.authConfigs.delete(ac.id).catch(() => {});
  });

  test('mcp.create answers every field the SDK reads', async () => {
    server = await sdk.mcp.create(serverName(), { toolkits: [{ toolkit: 'github', authConfigId: ac.id }], allowedTools: ALLOWED, manuallyManageConnections: false });
    assert.deepEqual(takeLogged(), []);
    assert.match(server.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(server.MCPUrl, `${BASE}/v3/mcp/${server.id}/mcp`, 'the URL is on the origin the SDK called');
    assert.deepEqual(server.allowedTools, ALLOWED);
    assert.deepEqual(server.authConfigIds, [ac.id]);
    for (const k of ['claude', 'cursor', 'windsurf']) {
      assert.equal(typeof server.commands[k], 'string');
      assert.ok(!server.commands[k].includes(cfg.ownerKey), `commands.${k} must not carry the API key`);
    }
    assert.equal(typeof server.generate, 'function');
  });

  test('mcp.get, mcp.list (page numbers, filters) and mcp.update', async () => {
    const got = await sdk.mcp.get(server.id);
    assert.deepEqual(takeLogged(), []);
    assert.equal(got.id, server.id);
    assert.deepEqual(got.toolkits, ['github']);
    assert.deepEqual(got.authConfigIds, [ac.id]);
    assert.equal(got.serverInstanceCount, 0);
    assert.equal(got.MCPUrl, server.MCPUrl);

    const second = await sdk.mcp.create(serverName(), { toolkits: ['slack'] });
    takeLogged();
    const page = await sdk.mcp.list({ page: 1, limit: 1, toolkits: ['github'] });
    assert.deepEqual(takeLogged(), []);
    assert.equal(page.currentPage, 1);
    assert.ok(page.items.some((s) => s.id === server.id), 'the github server is listed');
    assert.ok(!page.items.some((s) => s.id === second.id), 'the toolkit filter leaves the slack server out');
    const all = await sdk.mcp.list({ page: 2, limit: 1 });
    assert.ok(all.totalPages >= 2, `two servers over pages of one: totalPages ${all.totalPages}`);
    assert.ok(Array.isArray(all.items));

    const renamed = await sdk.mcp.update(second.id, { name: 'renamed server' });
    assert.deepEqual(takeLogged(), []);
    assert.equal(renamed.name, 'renamed server');
    assert.deepEqual(renamed.toolkits, ['slack'], 'a sparse update keeps the rest');
    const deleted = await sdk.mcp.delete(second.id);
    assert.equal(deleted.deleted, true);
  });

  test('mcp.generate, then an MCP client on the signed URL lists and calls the tools', async () => {
    const inst = await server.generate(userId);
    assert.equal(inst.type, 'streamable_http');
    assert.equal(inst.userId, userId);
    assert.deepEqual(inst.allowedTools, ALLOWED);
    const url = new URL(inst.url);
    assert.equal(url.origin + url.pathname, server.MCPUrl);
    assert.equal(url.searchParams.get('user_id'), userId);
    assert.ok(!inst.url.includes(cfg.ownerKey), 'the URL never carries the API key');

    // The signed URL needs no header.
    const client = await mcpClient(inst.url);
    clients.push(client);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...ALLOWED].sort());
    for (const t of tools) assert.equal(t.inputSchema.type, 'object');

    await fake.script({ method: 'GET', path: '/github/user', body: { login: 'octo-mcp', id: 7 } });
    const res = await client.callTool({ name: 'GITHUB_GET_THE_AUTHENTICATED_USER', arguments: {} });
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent.successful, true);
    assert.equal(res.structuredContent.data.login, 'octo-mcp');
    const [req, ...more] = await fake.take();
    assert.equal(more.length, 0);
    assert.equal(req.path, '/github/user');
    assert.deepEqual(req.headers.authorization, [`Bearer ${GH_TOKEN}`], "the user's own token was injected");

    const invalid = await client.callTool({ name: 'GITHUB_GET_A_REPOSITORY', arguments: { owner: 'octo' } });
    assert.equal(invalid.isError, true);
    assert.match(textOf(invalid), /repo/);
    assert.deepEqual(await fake.take(), [], 'an invalid call reaches no app');
  });

  test('the configuration URL with x-api-key and ?user_id=, and a deleted configuration', async () => {
    const client = await mcpClient(`${server.MCPUrl}?user_id=${encodeURIComponent(userId)}`, { 'x-api-key': cfg.ownerKey });
    clients.push(client);
    const { tools } = await client.listTools();
    assert.equal(tools.length, ALLOWED.length);

    const other = await mcpClient(`${server.MCPUrl}?user_id=${encodeURIComponent(uniqueName('nobody'))}`, { 'x-api-key': cfg.ownerKey });
    clients.push(other);
    const unconnected = await other.callTool({ name: 'GITHUB_GET_THE_AUTHENTICATED_USER', arguments: {} });
    assert.equal(unconnected.isError, true);
    assert.match(textOf(unconnected), /has not connected github/);

    const inst = await sdk.mcp.generate(userId, server.id);
    await sdk.mcp.delete(server.id);
    await assert.rejects(client.listTools(), /401|404|not found|Unauthorized/i);
    await assert.rejects(mcpClient(inst.url), /401|Unauthorized|signature/i);
    takeLogged();
  });
});

describe('composio.create: a session hands out an MCP URL on the origin called', () => {
  const userId = uniqueName('session-user');
  let ac;
  let account;
  const clients = [];

  before(async () => {
    await fake.reset();
    ac = await sdk.authConfigs.create('github', { type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {} });
    account = await sdk.connectedAccounts.initiate(userId, ac.id, { config: AuthScheme.BearerToken({ token: GH_TOKEN }) });
    takeLogged();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (account) await sdk.connectedAccounts.delete(account.id).catch(() => {});
    if (ac) await sdk.authConfigs.delete(ac.id).catch(() => {});
  });

  test('create, connect an MCP client with session.mcp, call a tool, delete', async () => {
    const session = await sdk.create(userId, { toolkits: ['github'], mcp: true });
    assert.match(session.sessionId, /^trs_/);
    assert.equal(session.mcp.type, 'http');
    assert.equal(session.mcp.url, `${BASE}/tool_router/${session.sessionId}/mcp`);
    assert.deepEqual(session.mcp.headers, { 'x-api-key': cfg.ownerKey }, 'the SDK attaches the key: the URL is on its own origin');

    const client = await mcpClient(session.mcp.url, session.mcp.headers);
    clients.push(client);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'GITHUB_GET_THE_AUTHENTICATED_USER'));
    assert.ok(tools.every((t) => t.name.startsWith('GITHUB_')), 'only the enabled toolkit');
    await fake.script({ method: 'GET', path: '/github/user', body: { login: 'octo-session', id: 9 } });
    const res = await client.callTool({ name: 'GITHUB_GET_THE_AUTHENTICATED_USER', arguments: {} });
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent.data.login, 'octo-session');
    const [req] = await fake.take();
    assert.deepEqual(req.headers.authorization, [`Bearer ${GH_TOKEN}`]);

    const again = await sdk.sessions.use(session.sessionId);
    assert.equal(again.mcp.url, session.mcp.url);
    assert.deepEqual(await sdk.sessions.delete(session.sessionId), { sessionId: session.sessionId, deleted: true });
    await assert.rejects(client.listTools(), /404|not found/i);
    assert.deepEqual(takeLogged(), [], 'the SDK logged nothing');
  });
});
