// guard.mjs: the network guard of the SDK conformance suite.
//
// Load it before anything else:   node --import ./guard.mjs --test flows/
// (the Go harness also puts it in NODE_OPTIONS, so every node process the
// SDKs might spawn, such as composio-core's `node -e` telemetry senders, is
// guarded too).
//
// It lets a process reach loopback only: 127.0.0.0/8, ::1 and "localhost".
// Every other destination is refused before a packet leaves the machine:
//
//   - dns.lookup / dns.promises.lookup of any other name fails (ENOTFOUND),
//   - net.connect / net.createConnection / tls.connect to any other host fail,
//   - net.Socket.prototype.connect (which every TCP client reaches: http,
//     https, axios, and undici, the engine of the global fetch) fails,
//
// asynchronously, the way a real network error does (the socket emits
// 'error' with code ENETUNREACH), so the SDKs see an ordinary connection
// failure. Unix-domain sockets are local and allowed.
//
// Each refused attempt is recorded, in memory and as one JSON line appended
// at once to the file named by PATCHBAY_GUARD_REPORT (appending as it
// happens survives crashes; several processes share the file). Each guarded
// process also writes one "loaded" line, so the harness can check that every
// flow really ran under the guard. Without PATCHBAY_GUARD_REPORT the
// attempts are printed to stderr at exit.
//
// A flow that provokes an attempt on purpose, or that knows an SDK makes one
// no option turns off, declares it first with
//   globalThis[Symbol.for('patchbay.guard')].expect(host, reason)
// Such attempts are still refused and still reported, marked "expected" with
// the reason; the harness fails on every unmarked one.
//
// Not covered: UDP (dgram), raw dns.resolve* queries, and processes that are
// not node. None of the SDKs under test use them.

import dns from 'node:dns';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

const KEY = Symbol.for('patchbay.guard');

if (!globalThis[KEY]) install();

function install() {
  const reportPath = process.env.PATCHBAY_GUARD_REPORT || '';
  const script = process.argv[1] ? path.relative(process.cwd(), process.argv[1]) : '(eval)';
  const state = {
    installedAt: new Date().toISOString(),
    reportPath,
    attempts: [],
    expected: [],
    /** Marks attempts to host (a name or an address) as expected, with reason. */
    expect(host, reason) {
      if (!host || !reason) throw new TypeError('expect(host, reason) needs both');
      state.expected.push({ host: normHost(host), reason: String(reason) });
    },
    isLoopback,
  };
  Object.defineProperty(globalThis, KEY, { value: state, enumerable: false });

  const write = (entry) => {
    if (!reportPath) return;
    try {
      fs.appendFileSync(reportPath, JSON.stringify(entry) + '\n');
    } catch (err) {
      process.stderr.write(`patchbay guard: cannot write ${reportPath}: ${err.message}\n`);
    }
  };
  write({ event: 'loaded', pid: process.pid, script });

  const record = (via, host, port) => {
    const h = normHost(host);
    const exp = state.expected.find((e) => e.host === h);
    const entry = { event: 'blocked', via, host: h, port: port ?? null, pid: process.pid, script, at: new Date().toISOString() };
    if (exp) entry.expected = exp.reason;
    state.attempts.push(entry);
    write(entry);
    return entry;
  };

  const connectError = (host, port) => {
    const err = new Error(`patchbay guard: blocked a connection to ${host}:${port ?? ''} (only loopback is allowed)`);
    err.code = 'ENETUNREACH';
    err.errno = -101;
    err.syscall = 'connect';
    err.address = String(host);
    if (port != null) err.port = port;
    err.patchbayGuard = true;
    return err;
  };
  const lookupError = (host) => {
    const err = new Error(`patchbay guard: blocked a DNS lookup of ${host} (only loopback is allowed)`);
    err.code = 'ENOTFOUND';
    err.errno = -3008;
    err.syscall = 'getaddrinfo';
    err.hostname = String(host);
    err.patchbayGuard = true;
    return err;
  };

  // A socket that fails like an unreachable network, on the next tick.
  const failSocket = (socket, host, port) => {
    process.nextTick(() => socket.destroy(connectError(host, port)));
    return socket;
  };

  // net.Socket.prototype.connect: the door every TCP connection goes through.
  const origSocketConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const t = connectTarget(args);
    if (t && !isLoopback(t.host)) {
      record('net.Socket.connect', t.host, t.port);
      return failSocket(this, t.host, t.port);
    }
    return origSocketConnect.apply(this, args);
  };

  // net.connect / net.createConnection / tls.connect: checked at the front
  // door too, so a caller holding them never gets near a real socket.
  const origNetConnect = net.connect;
  const guardedNetConnect = function guardedNetConnect(...args) {
    const t = connectTarget(args);
    if (t && !isLoopback(t.host)) {
      record('net.connect', t.host, t.port);
      return failSocket(new net.Socket(), t.host, t.port);
    }
    return origNetConnect.apply(this, args);
  };
  net.connect = guardedNetConnect;
  net.createConnection = guardedNetConnect;

  const origTlsConnect = tls.connect;
  tls.connect = function guardedTlsConnect(...args) {
    const t = tlsTarget(args);
    if (t && !isLoopback(t.host)) {
      record('tls.connect', t.host, t.port);
      return failSocket(new tls.TLSSocket(new net.Socket()), t.host, t.port);
    }
    return origTlsConnect.apply(this, args);
  };

  // dns.lookup and dns.promises.lookup: names other than localhost are never
  // resolved, so no query leaves the machine either.
  const origLookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    if (!isLoopback(hostname)) {
      record('dns.lookup', hostname, null);
      const err = lookupError(hostname);
      if (typeof callback === 'function') process.nextTick(() => callback(err));
      return {};
    }
    return origLookup.call(this, hostname, options, callback);
  };
  const origPromisesLookup = dns.promises.lookup;
  dns.promises.lookup = async function guardedPromisesLookup(hostname, options) {
    if (!isLoopback(hostname)) {
      record('dns.promises.lookup', hostname, null);
      throw lookupError(hostname);
    }
    return origPromisesLookup.call(this, hostname, options);
  };

  // Make `import { connect } from 'node:net'` and friends see the patches.
  syncBuiltinESMExports();

  if (!reportPath) {
    process.on('exit', () => {
      for (const a of state.attempts) {
        process.stderr.write(`patchbay guard: blocked ${a.via} ${a.host}:${a.port ?? ''}${a.expected ? ` (expected: ${a.expected})` : ''}\n`);
      }
    });
  }
}

function normHost(host) {
  if (host == null) return '';
  return String(host).trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

// isLoopback: 127.0.0.0/8, ::1 (and its IPv4-mapped 127/8 form), localhost.
// No host at all means node's default, localhost.
function isLoopback(host) {
  const h = normHost(host);
  if (h === '' || h === 'localhost') return true;
  if (net.isIPv4(h)) return h.split('.')[0] === '127';
  if (net.isIPv6(h)) {
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (m) return m[1].split('.')[0] === '127';
    return !h.includes('.') && expandV6(h) === '0000:0000:0000:0000:0000:0000:0000:0001';
  }
  return false;
}

function expandV6(h) {
  const [head, tail = ''] = h.split('::');
  const a = head ? head.split(':') : [];
  const b = h.includes('::') ? (tail ? tail.split(':') : []) : [];
  const fill = h.includes('::') ? Array(8 - a.length - b.length).fill('0') : [];
  return [...a, ...fill, ...b].map((x) => x.padStart(4, '0')).join(':');
}

// connectTarget reads {host, port} from the argument forms of
// net.Socket.prototype.connect and net.connect: (options[, cb]),
// (port[, host][, cb]), (path[, cb]), and node's internal normalized
// [options, cb] array. Unix-domain paths return null (local).
function connectTarget(args) {
  let a0 = args[0];
  if (Array.isArray(a0)) a0 = a0[0];
  if (a0 !== null && typeof a0 === 'object') {
    if (a0.path != null && a0.path !== '') return null;
    return { host: a0.host ?? a0.hostname ?? 'localhost', port: a0.port ?? null };
  }
  if (typeof a0 === 'number' || (typeof a0 === 'string' && a0 !== '' && /^\d+$/.test(a0))) {
    const host = typeof args[1] === 'string' ? args[1] : 'localhost';
    return { host, port: Number(a0) };
  }
  if (typeof a0 === 'string') return null; // a pipe / Unix-domain path
  return null;
}

// tlsTarget reads tls.connect's forms: (options[, cb]), (port[, host][,
// options][, cb]), (path[, options][, cb]). A TLS session over an existing
// socket (options.socket) was checked when that socket connected.
function tlsTarget(args) {
  const a0 = args[0];
  if (a0 !== null && typeof a0 === 'object') {
    if (a0.socket) return null;
    if (a0.path != null && a0.path !== '') return null;
    return { host: a0.host ?? a0.hostname ?? 'localhost', port: a0.port ?? null };
  }
  if (typeof a0 === 'number' || (typeof a0 === 'string' && /^\d+$/.test(a0))) {
    const opts = args.find((x, i) => i > 0 && x !== null && typeof x === 'object') || {};
    if (opts.socket) return null;
    const host = typeof args[1] === 'string' ? args[1] : opts.host ?? 'localhost';
    return { host, port: Number(a0) };
  }
  return null;
}
