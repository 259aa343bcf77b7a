// The network guard's own test: off-host connections are refused and
// recorded, loopback is not. Every destination here is provoked on purpose
// and marked expected first, so the harness does not count them; the
// addresses are a reserved documentation range (192.0.2.0/24, RFC 5737) and
// example.com/example.net (RFC 2606), refused before any packet is sent.

import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import tls from 'node:tls';

import { guard } from '../lib/flow.mjs';

// Fails here, before any attempt, unless the guard was preloaded.
const g = guard();
const PROVOKED = ['example.com', 'example.net', '192.0.2.1', '192.0.2.2'];
for (const h of PROVOKED) g.expect(h, 'guard self-test');

const attemptsTo = (host) => g.attempts.filter((a) => a.host === host);

/** Resolves with the 'error' a socket emits; fails if it connects. */
const socketError = (socket) =>
  new Promise((resolve, reject) => {
    socket.once('error', resolve);
    socket.once('connect', () => reject(new Error('connected to a non-loopback address')));
  });

describe('network guard', () => {
  test('fetch("https://example.com") rejects, and the attempt is recorded', async () => {
    await assert.rejects(fetch('https://example.com'), (err) => {
      assert.equal(err.name, 'TypeError'); // undici: "fetch failed"
      assert.equal(err.cause?.patchbayGuard, true, `cause: ${err.cause}`);
      assert.equal(err.cause.code, 'ENETUNREACH');
      return true;
    });
    const hits = attemptsTo('example.com');
    assert.ok(hits.length >= 1);
    assert.equal(hits[0].port, 443);
    assert.equal(hits[0].expected, 'guard self-test');
  });

  test('net.connect to a non-loopback address fails with ENETUNREACH', async () => {
    const err = await socketError(net.connect(80, '192.0.2.1'));
    assert.equal(err.code, 'ENETUNREACH');
    assert.equal(attemptsTo('192.0.2.1').length, 1);
  });

  test('new net.Socket().connect() (the path under http, axios and undici) fails too', async () => {
    const err = await socketError(new net.Socket().connect({ host: '192.0.2.2', port: 443 }));
    assert.equal(err.code, 'ENETUNREACH');
    assert.equal(attemptsTo('192.0.2.2')[0].via, 'net.Socket.connect');
  });

  test('tls.connect and http.get to a name fail', async () => {
    const before = attemptsTo('example.net').length;
    const err = await socketError(tls.connect({ host: 'example.net', port: 443, servername: 'example.net' }));
    assert.equal(err.code, 'ENETUNREACH');
    const httpErr = await new Promise((resolve) => http.get('http://example.net/', () => {}).once('error', resolve));
    assert.equal(httpErr.code, 'ENETUNREACH');
    assert.equal(attemptsTo('example.net').length, before + 2);
  });

  test('dns.lookup of a non-loopback name fails without a query', async () => {
    await assert.rejects(dns.promises.lookup('example.com'), { code: 'ENOTFOUND' });
    const err = await new Promise((resolve) => dns.lookup('example.net', (e) => resolve(e)));
    assert.equal(err.code, 'ENOTFOUND');
  });

  test('loopback is allowed: 127.0.0.1 and localhost', async () => {
    const server = http.createServer((req, res) => res.end('ok'));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address();
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
      const { address } = await dns.promises.lookup('localhost', { family: 4 });
      assert.equal(address.split('.')[0], '127');
    } finally {
      server.close();
    }
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(g.isLoopback(h), h);
    for (const h of ['10.0.0.1', '192.168.1.1', '0.0.0.0', '::', '::ffff:10.0.0.1', 'localhost.example.com', 'example.com']) {
      assert.ok(!g.isLoopback(h), h);
    }
  });

  test('only the provoked destinations were attempted, all marked expected', () => {
    assert.ok(g.attempts.length >= 6);
    for (const a of g.attempts) {
      assert.ok(PROVOKED.includes(a.host), `unexpected attempt to ${a.host}`);
      assert.equal(a.expected, 'guard self-test');
    }
  });
});
