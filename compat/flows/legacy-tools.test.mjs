// Tools ("actions") with the legacy SDK, composio-core 0.5.39, against
// fake apps (contract: shared/contracts/composio-legacy-v1.md §3.5, §4, §5,
// §6.9–§6.10).
//
// patchbay runs with --upstream-override github=<fake>/github and
// serpapi=<fake>/serpapi (compat_test.go), so every call a tool makes
// reaches the fake app of lib/fakeapp.mjs: the flow scripts its answer and
// then reads exactly what patchbay sent it, credential included.
//
// Every step is an SDK method called as the SDK's documents call it: the
// OpenAIToolSet (toolset.getTools, toolset.executeAction), an entity
// (entity.execute), and the actions model (actions.execute,
// actions.executeRequest). Their requests to patchbay are read off the
// SDK's own axios instance, as in legacy-connect.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { Composio, ComposioError, OpenAIToolSet } from 'composio-core';

import { fakeApp } from '../lib/fakeapp.mjs';
import { config, disableLegacyVersionCheck, guard, uniqueName } from '../lib/flow.mjs';

// composio-core 0.5.39's npm version check is turned off (lib/flow.mjs):
// the flow makes no off-host attempt at all; the last test checks that.
disableLegacyVersionCheck(Composio);

const cfg = config();
const fake = fakeApp();

/** A toolkit's tools as the catalog defines them (internal/catalog/tools). */
const catalog = (slug) => JSON.parse(readFileSync(new URL(`../../internal/catalog/tools/${slug}.json`, import.meta.url), 'utf8')).tools;
const GITHUB = catalog('github');
const catalogTool = (slug) => [...GITHUB, ...catalog('serpapi')].find((t) => t.slug === slug);

/**
 * Records "METHOD /path?query" (and the JSON body) of every request the
 * SDK's axios instance completes, in order. take() returns the lines and
 * forgets them; bodies() the bodies of the same requests.
 */
function recordRequests(composio) {
  let seen = [];
  const ax = composio.backendClient.getAxiosInstance();
  const rec = (c) => {
    const u = new URL(ax.getUri(c));
    let body;
    if (typeof c.data === 'string' && c.data !== '') body = JSON.parse(c.data);
    seen.push({ line: `${c.method.toUpperCase()} ${decodeURIComponent(u.pathname)}${decodeURIComponent(u.search)}`, body });
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
  const takeAll = () => {
    const out = seen;
    seen = [];
    return out;
  };
  return { take: () => takeAll().map((s) => s.line), takeAll };
}

// The end user's credentials. They reach the fake app, and must never
// come back in anything patchbay answers: every SDK result is kept and
// checked, and the fake echoes them on purpose in two steps.
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

/** The one header value the fake received under name (lower-case). */
const header = (req, name) => {
  const v = req.headers[name];
  assert.ok(v, `the fake received no ${name} header (it got ${Object.keys(req.headers).join(', ')})`);
  assert.equal(v.length, 1, `one ${name} header`);
  return v[0];
};

/** Asserts the GitHub credential and headers the BEARER_TOKEN scheme injects. */
function assertGitHubAuth(req) {
  assert.equal(header(req, 'authorization'), `Bearer ${GH_TOKEN}`, 'the token is injected as a bearer token');
  assert.equal(header(req, 'accept'), 'application/vnd.github+json');
  assert.equal(header(req, 'x-github-api-version'), '2022-11-28');
  assert.ok(!('x-api-key' in req.headers), 'the patchbay key never reaches the app');
}

/** Asserts an ActionExecutionResDto (§3.5) of a call the app carried out. */
function assertSuccess(res, data) {
  assert.equal(typeof res, 'object');
  assert.deepEqual(res.data, data);
  assert.equal(res.error, null);
  assert.equal(res.successful, true);
  assert.equal(res.successfull, true, 'the legacy misspelling is sent too');
  if ('logId' in res) assert.match(res.logId, /^log_/);
  assertNoSecrets(res, 'an execute result');
}

/** Requests of entity.execute / toolset.executeAction for a connected app (§4). */
const executeSequence = (action, app, entityId, accountId) => [
  `GET /api/v2/actions/${action}`,
  `GET /api/v1/apps/${app}`,
  `GET /api/v1/connectedAccounts?user_uuid=${entityId}`,
  `GET /api/v1/connectedAccounts/${accountId}`,
  `POST /api/v2/actions/${action}/execute`,
];

describe('composio-core 0.5.39: tools against fake apps (github BEARER_TOKEN, serpapi API_KEY)', () => {
  // Framework toolsets ignore COMPOSIO_BASE_URL (§1): baseUrl is passed.
  const toolset = new OpenAIToolSet({ apiKey: cfg.ownerKey, baseUrl: cfg.baseURL });
  const sent = recordRequests(toolset.client);
  const entityId = uniqueName('tools-entity');
  const OWNER = 'octo-org';
  const REPO = uniqueName('compat-repo');
  let entity;
  let github; // the github connected account id
  let serpapi; // the serpapi connected account id

  test('connect the user: github (BEARER_TOKEN {token}) and serpapi (API_KEY {generic_api_key}) → ACTIVE', async () => {
    await fake.reset();
    entity = await toolset.getEntity(entityId);
    const gh = keep(await entity.initiateConnection({ appName: 'github', authMode: 'BEARER_TOKEN', connectionParams: { token: GH_TOKEN } }));
    assert.equal(gh.connectionStatus, 'ACTIVE');
    github = gh.connectedAccountId;
    const serp = keep(await entity.initiateConnection({ appName: 'serpapi', authMode: 'API_KEY', connectionParams: { generic_api_key: SERP_KEY } }));
    assert.equal(serp.connectionStatus, 'ACTIVE');
    serpapi = serp.connectedAccountId;
    assert.deepEqual(sent.take(), ['POST /api/v2/connectedAccounts/initiateConnection', 'POST /api/v2/connectedAccounts/initiateConnection']);
    assert.deepEqual(await fake.take(), [], 'connecting calls no app');
  });

  test('toolset.getTools({actions:[…]}): OpenAI function schemas, as the catalog defines them', async () => {
    const names = ['GITHUB_CREATE_AN_ISSUE', 'SERPAPI_SEARCH'];
    const tools = keep(await toolset.getTools({ actions: names }));
    assert.deepEqual(sent.take(), [`GET /api/v2/actions?actions=${names.join(',')}`]);
    assert.ok(Array.isArray(tools));
    assert.deepEqual(tools.map((t) => t.function.name).sort(), names);
    for (const t of tools) {
      assert.deepEqual(Object.keys(t), ['type', 'function']);
      assert.equal(t.type, 'function');
      assert.deepEqual(Object.keys(t.function), ['name', 'description', 'parameters']);
      const want = catalogTool(t.function.name);
      assert.equal(t.function.description, want.description);
      const p = t.function.parameters;
      assert.equal(p.type, 'object');
      assert.equal(typeof p.title, 'string');
      assert.deepEqual(p.properties, want.input_parameters.properties, `${t.function.name}: the catalog's properties, verbatim`);
      assert.deepEqual(p.required, want.input_parameters.required);
    }
    const search = tools.find((t) => t.function.name === 'SERPAPI_SEARCH').function.parameters;
    assert.deepEqual(search.required, ['query']);
    assert.ok(!('api_key' in search.properties), 'the injected api_key is not an argument');
  });

  test("toolset.getTools({apps:['github']}): every github tool", async () => {
    const tools = keep(await toolset.getTools({ apps: ['github'] }));
    assert.deepEqual(sent.take(), ['GET /api/v2/actions?apps=github']);
    assert.deepEqual(tools.map((t) => t.function.name).sort(), GITHUB.map((t) => t.slug).sort());
    for (const t of tools) {
      assert.equal(t.type, 'function');
      assert.equal(typeof t.function.description, 'string');
      assert.equal(t.function.parameters.type, 'object');
      assert.equal(typeof t.function.parameters.properties, 'object');
    }
  });

  test("toolset.getTools({apps:['github'], tags:['important']}): the important ones", async () => {
    const tools = keep(await toolset.getTools({ apps: ['github'], tags: ['important'] }));
    assert.deepEqual(sent.take(), ['GET /api/v2/actions?apps=github&tags=important']);
    const want = GITHUB.filter((t) => t.tags.includes('important')).map((t) => t.slug).sort();
    assert.ok(want.length > 0);
    assert.deepEqual(tools.map((t) => t.function.name).sort(), want);
  });

  // The calls each execute method makes, against the scripted fake.
  const ISSUE = { id: 1001, number: 7, title: 'Found a bug', state: 'open', labels: [{ name: 'bug' }], html_url: 'https://github.com/octo-org/x/issues/7' };
  const SEARCH = {
    search_metadata: { id: 'sm-1', status: 'Success' },
    search_parameters: { engine: 'google', q: 'composio' },
    organic_results: [{ position: 1, title: 'Composio', link: 'https://composio.dev' }],
  };
  const calls = {
    GITHUB_CREATE_AN_ISSUE: {
      app: 'github',
      params: { owner: OWNER, repo: REPO, title: 'Found a bug', body: 'Steps: 1. 2. 3.', labels: ['bug'] },
      script: { method: 'POST', path: `/github/repos/${OWNER}/${REPO}/issues`, status: 201, body: ISSUE },
      check(req) {
        assert.equal(req.method, 'POST');
        assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
        assert.equal(req.rawQuery, '');
        assertGitHubAuth(req);
        assert.match(header(req, 'content-type'), /^application\/json\b/);
        assert.deepEqual(JSON.parse(req.body), { title: 'Found a bug', body: 'Steps: 1. 2. 3.', labels: ['bug'] }, 'owner and repo go in the path only');
      },
      data: ISSUE,
    },
    SERPAPI_SEARCH: {
      app: 'serpapi',
      params: { query: 'composio', num: 5 },
      script: { method: 'GET', path: '/serpapi/search.json', body: SEARCH },
      check(req) {
        assert.equal(req.method, 'GET');
        assert.equal(req.path, '/serpapi/search.json');
        assert.deepEqual(req.query, { engine: ['google'], q: ['composio'], num: ['5'], api_key: [SERP_KEY] }, 'query → q, the fixed engine, and the injected api_key');
        assert.ok(!('authorization' in req.headers), 'serpapi takes its key in the query only');
        assert.ok(!('x-api-key' in req.headers));
        assert.equal(req.body, '');
      },
      data: SEARCH,
    },
  };

  for (const [action, c] of Object.entries(calls)) {
    test(`entity.execute({actionName:'${action}', params}): the fake gets the mapped request and credential`, async () => {
      await fake.script(c.script);
      const res = keep(await entity.execute({ actionName: action, params: c.params }));
      const account = c.app === 'github' ? github : serpapi;
      const reqs = sent.takeAll();
      assert.deepEqual(reqs.map((r) => r.line), executeSequence(action, c.app, entityId, account));
      const { sessionInfo, ...body } = reqs.at(-1).body;
      assert.deepEqual(body, { connectedAccountId: account, input: c.params, appName: c.app, allowTracing: false });
      assert.equal(typeof sessionInfo, 'object');
      const got = await fake.take();
      assert.equal(got.length, 1, `one call to the app: ${got.map((r) => `${r.method} ${r.path}`)}`);
      c.check(got[0]);
      assertSuccess(res, c.data);
    });

    test(`toolset.executeAction({action:'${action}', params, entityId}) (text:"" is no NLA)`, async () => {
      await fake.script(c.script);
      const res = keep(await toolset.executeAction({ action, params: c.params, entityId }));
      const account = c.app === 'github' ? github : serpapi;
      const reqs = sent.takeAll();
      assert.deepEqual(reqs.map((r) => r.line), executeSequence(action, c.app, entityId, account));
      const { sessionInfo, ...body } = reqs.at(-1).body;
      assert.deepEqual(body, { connectedAccountId: account, input: c.params, appName: c.app, text: '', allowTracing: false });
      const got = await fake.take();
      assert.equal(got.length, 1);
      c.check(got[0]);
      assertSuccess(res, c.data);
    });
  }

  test('a list answer: GITHUB_LIST_REPOSITORY_ISSUES puts the array under data.items; query arguments are sent', async () => {
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${REPO}/issues`, body: [ISSUE] });
    const res = keep(
      await toolset.executeAction({ action: 'GITHUB_LIST_REPOSITORY_ISSUES', params: { owner: OWNER, repo: REPO, state: 'open', per_page: 2 }, entityId }),
    );
    sent.take();
    const [req, ...more] = await fake.take();
    assert.deepEqual(more, []);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
    assert.deepEqual(req.query, { state: ['open'], per_page: ['2'] });
    assertGitHubAuth(req);
    assertSuccess(res, { items: [ISSUE] });
  });

  test('new OpenAIToolSet({connectedAccountIds:{github}}).executeAction: the account from the map', async () => {
    const mapped = new OpenAIToolSet({ apiKey: cfg.ownerKey, baseUrl: cfg.baseURL, connectedAccountIds: { github } });
    const mine = recordRequests(mapped.client);
    const user = { login: 'octocat', id: 1 };
    await fake.script({ method: 'GET', path: '/github/user', body: user });
    const res = keep(await mapped.executeAction({ action: 'GITHUB_GET_THE_AUTHENTICATED_USER', params: {}, entityId }));
    const reqs = mine.takeAll();
    assert.deepEqual(reqs.map((r) => r.line), [
      'GET /api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER', // appName, to look the map up
      'GET /api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER',
      'GET /api/v1/apps/github',
      `GET /api/v1/connectedAccounts/${github}`,
      'POST /api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER/execute',
    ]);
    assert.equal(reqs.at(-1).body.connectedAccountId, github);
    const [req] = await fake.take();
    assert.equal(req.path, '/github/user');
    assertGitHubAuth(req);
    assertSuccess(res, user);
  });

  test('toolset.executeToolCall(toolCall, entityId): the schema, then the execution; a JSON string', async () => {
    await fake.script({ method: 'POST', path: `/github/repos/${OWNER}/${REPO}/issues`, status: 201, body: ISSUE });
    const args = { owner: OWNER, repo: REPO, title: 'From a tool call' };
    const out = keep(
      await toolset.executeToolCall({ id: 'call_1', type: 'function', function: { name: 'GITHUB_CREATE_AN_ISSUE', arguments: JSON.stringify(args) } }, entityId),
    );
    assert.deepEqual(sent.take(), [
      'GET /api/v2/actions?actions=GITHUB_CREATE_AN_ISSUE',
      ...executeSequence('GITHUB_CREATE_AN_ISSUE', 'github', entityId, github),
    ]);
    const [req] = await fake.take();
    assert.deepEqual(JSON.parse(req.body), { title: 'From a tool call' });
    assert.equal(typeof out, 'string');
    assertSuccess(JSON.parse(out), ISSUE);
  });

  test('arguments that fail the schema (no title) → ComposioError BACKEND::BAD_REQUEST naming the argument; the app is not called', async () => {
    let caught;
    await assert.rejects(entity.execute({ actionName: 'GITHUB_CREATE_AN_ISSUE', params: { owner: OWNER, repo: REPO } }), (err) => {
      caught = err;
      return true;
    });
    assert.ok(caught instanceof ComposioError, `expected a ComposioError, got ${caught?.constructor?.name}: ${caught?.message}`);
    assert.equal(caught.errCode, 'BACKEND::BAD_REQUEST', caught.message);
    assert.equal(caught.metadata.statusCode, 400);
    assert.match(caught.description, /title/, caught.description);
    sent.take();
    assert.deepEqual(await fake.take(), []);
  });

  test('an unknown connected account on actions.execute → ComposioError BACKEND::BAD_REQUEST (ConnectedAccountNotFoundError)', async () => {
    let caught;
    await assert.rejects(
      toolset.client.actions.execute({ actionName: 'GITHUB_GET_THE_AUTHENTICATED_USER', requestBody: { connectedAccountId: 'ca_doesNotExist0000', input: {}, appName: 'github' } }),
      (err) => {
        caught = err;
        return true;
      },
    );
    assert.ok(caught instanceof ComposioError, `expected a ComposioError, got ${caught?.constructor?.name}: ${caught?.message}`);
    assert.equal(caught.errCode, 'BACKEND::BAD_REQUEST');
    assert.match(caught.message, /^ConnectedAccountNotFoundError - /);
    sent.take();
    assert.deepEqual(await fake.take(), []);
  });

  test('an entity with no connection for the app → SDK::NO_CONNECTED_ACCOUNT_FOUND before any execute', async () => {
    const stranger = await toolset.getEntity(uniqueName('tools-stranger'));
    await assert.rejects(stranger.execute({ actionName: 'GITHUB_GET_THE_AUTHENTICATED_USER', params: {} }), (err) => {
      assert.ok(err instanceof ComposioError, `${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.errCode, 'SDK::NO_CONNECTED_ACCOUNT_FOUND');
      return true;
    });
    const lines = sent.take();
    assert.ok(!lines.some((l) => l.startsWith('POST ')), lines.join(', '));
    assert.deepEqual(await fake.take(), []);
  });

  test('an upstream 404 → successful:false with the error, and a data object (the SDK iterates it)', async () => {
    const missing = uniqueName('no-such-repo');
    const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues', status: '404' };
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${missing}/issues`, status: 404, body: notFound });
    const viaEntity = keep(await entity.execute({ actionName: 'GITHUB_LIST_REPOSITORY_ISSUES', params: { owner: OWNER, repo: missing } }));
    const viaToolset = keep(await toolset.executeAction({ action: 'GITHUB_LIST_REPOSITORY_ISSUES', params: { owner: OWNER, repo: missing }, entityId }));
    sent.take();
    const got = await fake.take();
    assert.deepEqual(got.map((r) => `${r.method} ${r.path}`), [`GET /github/repos/${OWNER}/${missing}/issues`, `GET /github/repos/${OWNER}/${missing}/issues`]);
    for (const res of [viaEntity, viaToolset]) {
      assert.equal(res.successful, false);
      assert.equal(res.successfull, false);
      assert.equal(typeof res.error, 'string');
      assert.match(res.error, /404/);
      assert.match(res.error, /Not Found/);
      assert.equal(typeof res.data, 'object');
      assert.notEqual(res.data, null);
      assert.ok(!Array.isArray(res.data));
    }
  });

  test("toolset.client.actions.execute({actionName, requestBody:{connectedAccountId, input, appName}}): one request", async () => {
    const user = { login: 'octocat', id: 1, name: 'The Octocat' };
    await fake.script({ method: 'GET', path: '/github/user', body: user });
    const res = keep(
      await toolset.client.actions.execute({
        actionName: 'GITHUB_GET_THE_AUTHENTICATED_USER',
        requestBody: { connectedAccountId: github, input: {}, appName: 'github' },
      }),
    );
    assert.deepEqual(sent.take(), ['POST /api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER/execute']);
    const [req, ...more] = await fake.take();
    assert.deepEqual(more, []);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/github/user');
    assertGitHubAuth(req);
    assertSuccess(res, user);
  });

  test('an app that echoes the credential: SERPAPI_GET_ACCOUNT_INFO returns it masked', async () => {
    await fake.script({ method: 'GET', path: '/serpapi/account', body: { api_key: SERP_KEY, account_email: 'ada@example.com', plan_searches_left: 4862 } });
    const res = keep(await toolset.executeAction({ action: 'SERPAPI_GET_ACCOUNT_INFO', params: {}, entityId }));
    sent.take();
    const [req] = await fake.take();
    assert.deepEqual(req.query, { api_key: [SERP_KEY] });
    assert.equal(res.successful, true);
    assert.equal(res.data.account_email, 'ada@example.com');
    assert.equal(typeof res.data.api_key, 'string');
    assert.notEqual(res.data.api_key, SERP_KEY);
    assertNoSecrets(res, 'SERPAPI_GET_ACCOUNT_INFO');
  });

  test('toolset.client.actions.executeRequest (the proxy), GET with a query and a header parameter', async () => {
    await fake.script({ method: 'GET', path: `/github/repos/${OWNER}/${REPO}/issues`, headers: { 'x-ratelimit-remaining': '4999' }, body: [ISSUE] });
    const params = {
      connectedAccountId: github,
      endpoint: `/repos/${OWNER}/${REPO}/issues`,
      method: 'GET',
      parameters: [
        { name: 'state', in: 'query', value: 'open' },
        { name: 'X-Trace', in: 'header', value: 't-1' },
      ],
    };
    const res = keep(await toolset.client.actions.executeRequest(params));
    const [r, ...others] = sent.takeAll();
    assert.deepEqual(others, []);
    assert.equal(r.line, 'POST /api/v2/actions/proxy');
    assert.deepEqual(r.body, params);
    const [req, ...more] = await fake.take();
    assert.deepEqual(more, []);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, `/github/repos/${OWNER}/${REPO}/issues`);
    assert.deepEqual(req.query, { state: ['open'] });
    assert.equal(header(req, 'x-trace'), 't-1');
    assertGitHubAuth(req);
    assert.deepEqual(res.data, [ISSUE], "the app's body as it came");
    assert.equal(res.status, 200);
    assert.equal(res.successful, true);
    assert.equal(res.headers?.['x-ratelimit-remaining'], '4999');
    assertNoSecrets(res, 'the proxy answer');
  });

  test('the proxy, POST with a JSON body: a caller\'s Authorization parameter never replaces the credential', async () => {
    const comment = { id: 55, body: 'Thanks!' };
    await fake.script({ method: 'POST', path: `/github/repos/${OWNER}/${REPO}/issues/7/comments`, status: 201, body: comment });
    const res = keep(
      await toolset.client.actions.executeRequest({
        connectedAccountId: github,
        endpoint: `/repos/${OWNER}/${REPO}/issues/7/comments`,
        method: 'POST',
        parameters: [{ name: 'Authorization', in: 'header', value: 'Bearer not-the-users' }],
        body: { body: 'Thanks!' },
      }),
    );
    sent.take();
    const [req] = await fake.take();
    assert.equal(req.method, 'POST');
    assertGitHubAuth(req);
    assert.match(header(req, 'content-type'), /^application\/json\b/);
    assert.deepEqual(JSON.parse(req.body), { body: 'Thanks!' });
    assert.deepEqual(res.data, comment);
    assert.equal(res.status, 201);
    assert.equal(res.successful, true);
  });

  test('the proxy to serpapi: api_key injected in the query; an echoed key comes back masked', async () => {
    await fake.script({ method: 'GET', path: '/serpapi/account', body: { api_key: SERP_KEY, plan_name: 'Developer Plan' } });
    const res = keep(await toolset.client.actions.executeRequest({ connectedAccountId: serpapi, endpoint: '/account', method: 'GET', parameters: [] }));
    sent.take();
    const [req] = await fake.take();
    assert.equal(req.path, '/serpapi/account');
    assert.deepEqual(req.query, { api_key: [SERP_KEY] });
    assert.equal(res.status, 200);
    assert.equal(res.data.plan_name, 'Developer Plan');
    assert.notEqual(res.data.api_key, SERP_KEY);
    assertNoSecrets(res, 'the proxy answer');
  });

  test('clean up: delete both accounts', async () => {
    for (const id of [github, serpapi]) assert.equal((await toolset.connectedAccounts.delete({ connectedAccountId: id })).status, 'success');
    sent.take();
    assert.deepEqual(await fake.take(), []);
  });
});

// Kept last.
test('no SDK result ever carried a credential in plaintext', () => {
  assert.ok(results.length > 15, `${results.length} results kept`);
  assertNoSecrets(results, 'an SDK result');
});

test('off-host traffic: none', () => {
  assert.deepEqual(guard().attempts, []);
});
