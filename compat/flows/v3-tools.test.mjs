// Tools with the current SDK, @composio/core 0.21.0 over @composio/client
// 2.0.0-rc.6, against fake apps (contract: shared/contracts/composio-v3.md
// §2, §3.4, §4.6, §4.7, §5, §6.11–§6.12).
//
// patchbay runs with --upstream-override github=<fake>/github and
// serpapi=<fake>/serpapi (compat_test.go), so every call a tool makes
// reaches the fake app of lib/fakeapp.mjs: the flow scripts its answer and
// then reads exactly what patchbay sent it, credential included.
//
// Every step is a high-level SDK method (composio.tools, and the default
// OpenAI provider). Tool schemas and execute answers go through core's zod
// schemas, which throw (§2 HARD); the rest of what core parses only warns,
// so, as in v3-connect, the SDK logger goes to a sink and each step checks
// that it logged nothing. The requests the SDK sends patchbay are recorded
// by wrapping globalThis.fetch, which the client calls at request time.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  AuthScheme,
  Composio,
  ComposioConnectedAccountNotFoundError,
  ComposioToolExecutionError,
  ComposioToolNotFoundError,
  ComposioToolVersionRequiredError,
} from '@composio/core';
import { BadRequestError, NotFoundError } from '@composio/client';

import { fakeApp } from '../lib/fakeapp.mjs';
import { config, guard, uniqueName } from '../lib/flow.mjs';

const cfg = config();
const BASE = cfg.baseURL.replace(/\/+$/, '');
const fake = fakeApp(); // its control calls use the fetch from before the wrap below

/** A toolkit's catalog file (internal/catalog/tools). */
const catalogFile = (slug) => JSON.parse(readFileSync(new URL(`../../internal/catalog/tools/${slug}.json`, import.meta.url), 'utf8'));
const GITHUB = catalogFile('github');
const SERPAPI = catalogFile('serpapi');
const catalogTool = (slug) => [...GITHUB.tools, ...SERPAPI.tools].find((t) => t.slug === slug);

// Every request the SDK sends patchbay, in order: line "METHOD /path?query"
// (decoded), the JSON body, the answer's status and, for an error, its JSON
// body. takeSent() returns them and forgets them.
let sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (url.startsWith(`${BASE}/`)) {
    const u = new URL(url);
    const method = (init.method ?? (typeof input === 'object' && input.method) ?? 'GET').toUpperCase();
    const body = typeof init.body === 'string' && init.body !== '' ? JSON.parse(init.body) : undefined;
    const entry = { line: `${method} ${decodeURIComponent(u.pathname)}${decodeURIComponent(u.search)}`, body };
    sent.push(entry);
    const res = await realFetch(input, init);
    entry.status = res.status;
    if (!res.ok) entry.error = JSON.parse(await res.clone().text());
    return res;
  }
  return realFetch(input, init);
};
const takeSent = () => {
  const out = sent;
  sent = [];
  return out;
};
const takeLines = () => takeSent().map((s) => s.line);

// The SDK logger is a process-wide singleton, routed to this sink.
const logged = [];
const sink = {
  error: (...a) => logged.push(`error: ${a.join(' ')}`),
  warn: (...a) => logged.push(`warn: ${a.join(' ')}`),
  info: () => {},
  debug: () => {},
};
const takeLogged = () => logged.splice(0);

// §1.5: allowTracking:false and disableVersionCheck:true, so no off-host
// request at all. The default provider is OpenAIProvider.
const sdk = new Composio({
  apiKey: cfg.ownerKey,
  baseURL: cfg.baseURL,
  allowTracking: false,
  disableVersionCheck: true,
  logger: sink,
  logLevel: 'warn',
});

/** A test whose SDK calls must log no warning or error. */
function step(name, fn) {
  test(name, async () => {
    takeLogged();
    await fn();
    assert.deepEqual(takeLogged(), [], 'the SDK logged warnings');
  });
}

// The end user's credentials: they reach the fake app and must never come
// back in anything patchbay answers (checked per step and, over every kept
// result, at the end; the fake echoes the serpapi key on purpose once).
const secret = (prefix) => `${prefix}${randomBytes(12).toString('hex')}`;
const GH_TOKEN = secret('ghp_');
const SERP_KEY = secret('serp-');
const SECRETS = [GH_TOKEN, SERP_KEY];
const results = [];
const keep = (x) => {
  results.push(x);
  return x;
};
const assertNoSecrets = (x, what) => {
  const s = JSON.stringify(x);
  for (const k of SECRETS) assert.ok(!s.includes(k), `${what} carries a credential in plaintext`);
};

/** Asserts that p rejects with an instance of cls; returns the error. */
async function rejectsWith(p, cls) {
  let caught;
  await assert.rejects(p, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${caught?.constructor?.name}: ${caught?.message}`);
  return caught;
}

/** The one header value the fake received under name (lower-case). */
const header = (req, name) => {
  const v = req.headers[name];
  assert.ok(v, `the fake received no ${name} header (it got ${Object.keys(req.headers).join(', ')})`);
  assert.equal(v.length, 1, `one ${name} header`);
  return v[0];
};

/** The GitHub credential and headers the BEARER_TOKEN scheme injects. */
function assertGitHubAuth(req) {
  assert.equal(header(req, 'authorization'), `Bearer ${GH_TOKEN}`);
  assert.equal(header(req, 'accept'), 'application/vnd.github+json');
  assert.equal(header(req, 'x-github-api-version'), '2022-11-28');
  assert.ok(!('x-api-key' in req.headers), 'the patchbay key never reaches the app');
}

/** Asserts a transformed execute answer (§4.7) of a call the app carried out. */
function assertSuccess(res, data) {
  assert.match(res.logId, /^log_/);
  assert.deepEqual(JSON.parse(JSON.stringify(res)), { data, error: null, successful: true, logId: res.logId });
  assertNoSecrets(res, 'an execute result');
}

/** Checks an OpenAI tool against the catalog: name, description, parameters. */
function assertOpenAITool(t) {
  assert.deepEqual(Object.keys(t), ['type', 'function']);
  assert.equal(t.type, 'function');
  assert.deepEqual(Object.keys(t.function).sort(), ['description', 'name', 'parameters']);
  const want = catalogTool(t.function.name);
  assert.ok(want, `${t.function.name} is a catalog tool`);
  assert.equal(t.function.description, want.description);
  assert.deepEqual(t.function.parameters, want.input_parameters, `${t.function.name}: the catalog's input schema`);
}

describe('@composio/core 0.21.0: tools against fake apps (github BEARER_TOKEN, serpapi API_KEY)', () => {
  const userId = uniqueName('tools-user');
  const OWNER = 'octo-org';
  const REPO = uniqueName('compat-repo');
  const ISSUE = { id: 1001, number: 7, title: 'Found a bug', state: 'open', labels: [{ name: 'bug' }] };
  let ghAc; // the github BEARER_TOKEN auth config
  let serpAc; // the serpapi API_KEY auth config
  let github; // the user's github account id
  let serpapi; // the user's serpapi account id
  let version; // GITHUB_CREATE_AN_ISSUE's version, from the GET

  step('connect the user: github AuthScheme.BearerToken({token}), serpapi AuthScheme.APIKey({generic_api_key}) → ACTIVE', async () => {
    await fake.reset();
    ghAc = keep(await sdk.authConfigs.create('github', { type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', credentials: {} }));
    const gh = keep(await sdk.connectedAccounts.initiate(userId, ghAc.id, { config: AuthScheme.BearerToken({ token: GH_TOKEN }) }));
    assert.equal(gh.status, 'ACTIVE');
    github = gh.id;
    serpAc = keep(await sdk.authConfigs.create('serpapi', { type: 'use_custom_auth', authScheme: 'API_KEY', credentials: {} }));
    const serp = keep(await sdk.connectedAccounts.initiate(userId, serpAc.id, { config: AuthScheme.APIKey({ generic_api_key: SERP_KEY }) }));
    assert.equal(serp.status, 'ACTIVE');
    serpapi = serp.id;
    takeSent();
    assert.deepEqual(await fake.take(), [], 'connecting calls no app');
  });

  step("composio.tools.get(userId, {toolkits:['github']}): the SDK adds important=true; the important tools, as OpenAI tools", async () => {
    const tools = keep(await sdk.tools.get(userId, { toolkits: ['github'] }));
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools?toolkit_slug=github&important=true&toolkit_versions=latest']);
    assert.ok(Array.isArray(tools));
    const want = GITHUB.tools.filter((t) => t.tags.includes('important')).map((t) => t.slug).sort();
    assert.ok(want.length > 0);
    assert.deepEqual(tools.map((t) => t.function.name).sort(), want);
    tools.forEach(assertOpenAITool);
  });

  step("composio.tools.get(userId, {toolkits:['github'], limit:5}): no important filter, five tools", async () => {
    const tools = keep(await sdk.tools.get(userId, { toolkits: ['github'], limit: 5 }));
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools?toolkit_slug=github&limit=5&toolkit_versions=latest']);
    assert.equal(tools.length, 5);
    tools.forEach(assertOpenAITool);
  });

  step('composio.tools.get(userId, {tools:[…]}): those tools (limit=9999)', async () => {
    const names = ['GITHUB_CREATE_AN_ISSUE', 'SERPAPI_SEARCH'];
    const tools = keep(await sdk.tools.get(userId, { tools: names }));
    assert.deepEqual(takeLines(), [`GET /api/v3.1/tools?tool_slugs=${names.join(',')}&limit=9999&toolkit_versions=latest`]);
    assert.deepEqual(tools.map((t) => t.function.name).sort(), names);
    tools.forEach(assertOpenAITool);
    const search = tools.find((t) => t.function.name === 'SERPAPI_SEARCH').function.parameters;
    assert.deepEqual(search.required, ['query']);
    assert.ok(!('api_key' in search.properties), 'the injected api_key is not an argument');
  });

  step("composio.tools.get(userId, 'GITHUB_CREATE_AN_ISSUE'): one tool", async () => {
    const tools = keep(await sdk.tools.get(userId, 'GITHUB_CREATE_AN_ISSUE'));
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools/GITHUB_CREATE_AN_ISSUE?toolkit_versions=latest']);
    assert.equal(tools.length, 1);
    assertOpenAITool(tools[0]);
  });

  step("composio.tools.get(userId, {toolkits:['github'], search:'issue'}): search is sent as query", async () => {
    const tools = keep(await sdk.tools.get(userId, { toolkits: ['github'], search: 'issue' }));
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools?toolkit_slug=github&query=issue&toolkit_versions=latest']);
    assert.ok(tools.some((t) => t.function.name === 'GITHUB_CREATE_AN_ISSUE'), tools.map((t) => t.function.name).join(', '));
    tools.forEach(assertOpenAITool);
  });

  step('composio.tools.getToolsEnum(): every tool slug', async () => {
    const slugs = keep(await sdk.tools.getToolsEnum());
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools/enum']);
    assert.ok(Array.isArray(slugs));
    for (const t of [...GITHUB.tools, ...SERPAPI.tools]) assert.ok(slugs.includes(t.slug), `${t.slug} is listed`);
  });

  step('composio.tools.getRawComposioToolBySlug: the tool, camel-cased, with its version', async () => {
    const tool = keep(await sdk.tools.getRawComposioToolBySlug('GITHUB_CREATE_AN_ISSUE'));
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools/GITHUB_CREATE_AN_ISSUE?toolkit_versions=latest']);
    const want = catalogTool('GITHUB_CREATE_AN_ISSUE');
    assert.equal(tool.slug, 'GITHUB_CREATE_AN_ISSUE');
    assert.equal(tool.name, want.name);
    assert.equal(tool.description, want.description);
    assert.equal(tool.toolkit.slug, 'github');
    assert.equal(tool.toolkit.name, 'GitHub');
    assert.equal(typeof tool.toolkit.logo, 'string');
    assert.deepEqual(tool.inputParameters, want.input_parameters);
    assert.equal(tool.outputParameters.type, 'object');
    assert.equal(tool.version, GITHUB.version);
    assert.deepEqual(tool.availableVersions, [GITHUB.version]);
    assert.deepEqual(tool.tags, want.tags);
    assert.equal(tool.isNoAuth, false);
    assert.equal(tool.isDeprecated, false);
    version = tool.version;

    // An explicit version is asked for as ?version=.
    const pinned = keep(await sdk.tools.getRawComposioToolBySlug('GITHUB_CREATE_AN_ISSUE', { version }));
    assert.deepEqual(takeLines(), [`GET /api/v3.1/tools/GITHUB_CREATE_AN_ISSUE?version=${version}`]);
    assert.equal(pinned.version, version);
  });

  step('an unknown tool → ComposioToolNotFoundError (cause NotFoundError 404)', async () => {
    const err = await rejectsWith(sdk.tools.getRawComposioToolBySlug('GITHUB_DOES_NOT_EXIST'), ComposioToolNotFoundError);
    assert.ok(err.cause instanceof NotFoundError, `cause ${err.cause?.constructor?.name}`);
    assert.equal(err.cause.status, 404);
    takeSent();
  });

  step("composio.tools.execute(slug, {userId, arguments, version}) with the tool's version: the mapped request, the credential, {data, error, successful, logId}", async () => {
    await fake.script({ method: 'POST', path: `/github/repos/${OWNER}/${REPO}/issues`, status: 201, body: ISSUE });
    const args = { owner: OWNER, repo: REPO, title: 'Found a bug', body: 'Steps: 1. 2. 3.', labels: ['bug'] };
    const res = keep(await sdk.tools.execute('GITHUB_CREATE_AN_ISSUE', { userId, arguments: args, version }));
    const reqs = takeSent();
    assert.deepEqual(reqs.map((r) => r.line), [
      `GET /api/v3.1/tools/GITHUB_CREATE_AN_ISSUE?version=${version}`,
      'POST /api/v3.1/tools/execute/GITHUB_CREATE_AN_ISSUE',
    ]);
    assert.deepEqual(reqs[1].body, { arguments: args, user_id: userId, version });
    const got = await fake.take();
    assert.equal(got.length, 1, `one call to the app: ${got.map((r) => `${r.method} ${r.path}`)}`);
    const [req] = got;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
    assert.equal(req.rawQuery, '');
    assertGitHubAuth(req);
    assert.match(header(req, 'content-type'), /^application\/json\b/);
    assert.deepEqual(JSON.parse(req.body), { title: 'Found a bug', body: 'Steps: 1. 2. 3.', labels: ['bug'] }, 'owner and repo go in the path only');
    assertSuccess(res, ISSUE);
  });

  step('composio.tools.execute without a version (and no toolkitVersions) → ComposioToolVersionRequiredError, no execute sent', async () => {
    await rejectsWith(sdk.tools.execute('SERPAPI_SEARCH', { userId, arguments: { query: 'composio' } }), ComposioToolVersionRequiredError);
    assert.deepEqual(takeLines(), ['GET /api/v3.1/tools/SERPAPI_SEARCH?toolkit_versions=latest']);
    assert.deepEqual(await fake.take(), []);
  });

  step('composio.tools.execute(slug, {…, dangerouslySkipVersionCheck:true}): version "latest"; api_key injected in the query', async () => {
    const answer = { search_metadata: { id: 'sm-1', status: 'Success' }, organic_results: [{ position: 1, title: 'Composio', link: 'https://composio.dev' }] };
    await fake.script({ method: 'GET', path: '/serpapi/search.json', body: answer });
    const args = { query: 'composio', num: 5 };
    const res = keep(await sdk.tools.execute('SERPAPI_SEARCH', { userId, arguments: args, dangerouslySkipVersionCheck: true }));
    const reqs = takeSent();
    assert.deepEqual(reqs.map((r) => r.line), ['GET /api/v3.1/tools/SERPAPI_SEARCH?toolkit_versions=latest', 'POST /api/v3.1/tools/execute/SERPAPI_SEARCH']);
    assert.deepEqual(reqs[1].body, { arguments: args, user_id: userId, version: 'latest' });
    const [req, ...more] = await fake.take();
    assert.deepEqual(more, []);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/serpapi/search.json');
    assert.deepEqual(req.query, { engine: ['google'], q: ['composio'], num: ['5'], api_key: [SERP_KEY] });
    assert.ok(!('authorization' in req.headers));
    assert.equal(req.body, '');
    assertSuccess(res, answer);
  });

  step('composio.tools.execute with connectedAccountId: a list answer is put under data.items', async () => {
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${REPO}/issues`, body: [ISSUE] });
    const args = { owner: OWNER, repo: REPO, state: 'open', per_page: 2 };
    const res = keep(await sdk.tools.execute('GITHUB_LIST_REPOSITORY_ISSUES', { userId, connectedAccountId: github, arguments: args, version }));
    const reqs = takeSent();
    assert.deepEqual(reqs[1].body, { connected_account_id: github, arguments: args, user_id: userId, version });
    const [req] = await fake.take();
    assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
    assert.deepEqual(req.query, { state: ['open'], per_page: ['2'] });
    assertGitHubAuth(req);
    assertSuccess(res, { items: [ISSUE] });
  });

  step('an upstream 404 → successful:false with the error, data an object (HTTP 200, no exception)', async () => {
    const missing = uniqueName('no-such-repo');
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${missing}/issues`, status: 404, body: { message: 'Not Found', status: '404' } });
    const res = keep(await sdk.tools.execute('GITHUB_LIST_REPOSITORY_ISSUES', { userId, arguments: { owner: OWNER, repo: missing }, version }));
    takeSent();
    assert.equal((await fake.take()).length, 1);
    assert.equal(res.successful, false);
    assert.equal(typeof res.error, 'string');
    assert.match(res.error, /404/);
    assert.match(res.error, /Not Found/);
    assert.equal(typeof res.data, 'object');
    assert.notEqual(res.data, null);
    assert.match(res.logId, /^log_/);
  });

  step('arguments that fail the schema (no title) → ComposioToolExecutionError, cause BadRequestError 400 naming the argument; the app is not called', async () => {
    const err = await rejectsWith(
      sdk.tools.execute('GITHUB_CREATE_AN_ISSUE', { userId, arguments: { owner: OWNER, repo: REPO }, version }),
      ComposioToolExecutionError,
    );
    assert.ok(err.cause instanceof BadRequestError, `cause ${err.cause?.constructor?.name}: ${err.cause?.message}`);
    assert.equal(err.cause.status, 400);
    assert.match(err.cause.error.error.message, /title/);
    takeSent();
    assert.deepEqual(await fake.take(), []);
  });

  step('provider.executeToolCall(userId, toolCall): runs the tool (version "latest") and returns the result as JSON', async () => {
    const user = { login: 'octocat', id: 1, name: 'The Octocat' };
    await fake.script({ method: 'GET', path: '/github/user', body: user });
    const out = keep(
      await sdk.provider.executeToolCall(userId, { id: 'call_1', type: 'function', function: { name: 'GITHUB_GET_THE_AUTHENTICATED_USER', arguments: '{}' } }),
    );
    const reqs = takeSent();
    assert.deepEqual(reqs.map((r) => r.line), [
      'GET /api/v3.1/tools/GITHUB_GET_THE_AUTHENTICATED_USER?toolkit_versions=latest',
      'POST /api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER',
    ]);
    assert.equal(reqs[1].body.version, 'latest');
    assert.equal(reqs[1].body.user_id, userId);
    const [req] = await fake.take();
    assert.equal(req.path, '/github/user');
    assertGitHubAuth(req);
    assert.equal(typeof out, 'string');
    const res = JSON.parse(out);
    assert.deepEqual(res.data, user);
    assert.equal(res.successful, true);
  });

  step('execute for a user with no connection → ComposioConnectedAccountNotFoundError (server code 1803); the app is not called', async () => {
    const stranger = uniqueName('no-accounts-user');
    const err = await rejectsWith(
      sdk.tools.execute('GITHUB_GET_THE_AUTHENTICATED_USER', { userId: stranger, arguments: {}, dangerouslySkipVersionCheck: true }),
      ComposioConnectedAccountNotFoundError,
    );
    assert.match(err.message, new RegExp(stranger));
    const [, post] = takeSent();
    assert.equal(post.line, 'POST /api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER');
    assert.equal(post.status, 400);
    assert.equal(post.error.error.code, 1803);
    assert.equal(post.error.error.status, 400);
    assert.equal(err.message, post.error.error.message, "the SDK's message is the server's");
    // An unknown connected account id: the same error.
    await rejectsWith(
      sdk.tools.execute('GITHUB_GET_THE_AUTHENTICATED_USER', { userId, connectedAccountId: 'ca_doesNotExist0000', arguments: {}, dangerouslySkipVersionCheck: true }),
      ComposioConnectedAccountNotFoundError,
    );
    assert.equal(takeSent()[1].error.error.code, 1803);
    assert.deepEqual(await fake.take(), []);
  });

  step('composio.tools.proxyExecute({endpoint, method, parameters, connectedAccountId}): in → type, values stringified; the raw answer', async () => {
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${REPO}/issues`, headers: { 'x-ratelimit-remaining': '4999' }, body: [ISSUE] });
    const res = keep(
      await sdk.tools.proxyExecute({
        endpoint: `/repos/${OWNER}/${REPO}/issues`,
        method: 'GET',
        connectedAccountId: github,
        parameters: [
          { in: 'query', name: 'state', value: 'open' },
          { in: 'query', name: 'per_page', value: 5 },
          { in: 'header', name: 'X-Trace', value: 't-1' },
        ],
      }),
    );
    const [r, ...others] = takeSent();
    assert.deepEqual(others, []);
    assert.equal(r.line, 'POST /api/v3.1/tools/execute/proxy');
    assert.deepEqual(r.body, {
      endpoint: `/repos/${OWNER}/${REPO}/issues`,
      method: 'GET',
      connected_account_id: github,
      parameters: [
        { name: 'state', type: 'query', value: 'open' },
        { name: 'per_page', type: 'query', value: '5' },
        { name: 'X-Trace', type: 'header', value: 't-1' },
      ],
    });
    const [req, ...more] = await fake.take();
    assert.deepEqual(more, []);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
    assert.deepEqual(req.query, { state: ['open'], per_page: ['5'] });
    assert.equal(header(req, 'x-trace'), 't-1');
    assertGitHubAuth(req);
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [ISSUE]);
    assert.equal(res.headers?.['x-ratelimit-remaining'], '4999');
    assertNoSecrets(res, 'the proxy answer');
  });

  step('proxyExecute POST with a JSON body; an upstream error status is passed on', async () => {
    await fake.script({ method: 'POST', path: `/github/repos/${OWNER}/${REPO}/labels`, status: 422, body: { message: 'Validation Failed' } });
    const res = keep(
      await sdk.tools.proxyExecute({ endpoint: `/repos/${OWNER}/${REPO}/labels`, method: 'POST', connectedAccountId: github, body: { name: 'bug', color: 'f00' } }),
    );
    const [r] = takeSent();
    assert.deepEqual(r.body, { endpoint: `/repos/${OWNER}/${REPO}/labels`, method: 'POST', body: { name: 'bug', color: 'f00' }, connected_account_id: github, parameters: [] });
    const [req] = await fake.take();
    assert.equal(req.method, 'POST');
    assertGitHubAuth(req);
    assert.match(header(req, 'content-type'), /^application\/json\b/);
    assert.deepEqual(JSON.parse(req.body), { name: 'bug', color: 'f00' });
    assert.equal(res.status, 422);
    assert.deepEqual(res.data, { message: 'Validation Failed' });
  });

  step('proxyExecute to serpapi: api_key injected; a key the app echoes comes back masked', async () => {
    await fake.script({ method: 'GET', path: '/serpapi/account', body: { api_key: SERP_KEY, plan_name: 'Developer Plan' } });
    const res = keep(await sdk.tools.proxyExecute({ endpoint: '/account', method: 'GET', connectedAccountId: serpapi }));
    takeSent();
    const [req] = await fake.take();
    assert.equal(req.path, '/serpapi/account');
    assert.deepEqual(req.query, { api_key: [SERP_KEY] });
    assert.equal(res.status, 200);
    assert.equal(res.data.plan_name, 'Developer Plan');
    assert.notEqual(res.data.api_key, SERP_KEY);
    assertNoSecrets(res, 'the proxy answer');
  });

  step('clean up: delete the auth configs (and with them the accounts)', async () => {
    for (const a of [ghAc, serpAc]) keep(await sdk.authConfigs.delete(a.id));
    takeSent();
    assert.deepEqual(await fake.take(), []);
  });
});

// Kept last.
test('no SDK result ever carried a credential in plaintext', () => {
  assert.ok(results.length > 15, `${results.length} results kept`);
  assertNoSecrets(results, 'an SDK result');
});

test('off-host traffic: none (allowTracking:false, disableVersionCheck:true)', () => {
  assert.deepEqual(guard().attempts, []);
});
