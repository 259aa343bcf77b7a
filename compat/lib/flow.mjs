// Helpers shared by the flows: configuration from the environment, the
// guard's presence, and unique names. Not a test file itself.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

/** The value of env var name; fails the flow when it is missing. */
export function env(name) {
  const v = process.env[name];
  assert.ok(v, `environment variable ${name} is not set (the Go harness compat_test.go sets it)`);
  return v;
}

/**
 * The network guard's in-process state. The flows run only under the guard:
 * it must have been preloaded with --import ./guard.mjs, never imported here,
 * so that it is in place before any SDK code runs.
 */
export function guard() {
  const g = globalThis[Symbol.for('patchbay.guard')];
  assert.ok(g, 'the network guard is not loaded: run node with --import ./guard.mjs');
  return g;
}

/** A name unique to this run, so flows never collide on a shared server. */
export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The configuration every flow reads. */
export function config() {
  guard();
  const baseURL = env('COMPOSIO_BASE_URL');
  const u = new URL(baseURL);
  assert.ok(guard().isLoopback(u.hostname), `COMPOSIO_BASE_URL ${baseURL} is not a loopback URL`);
  return {
    baseURL,
    ownerKey: env('COMPOSIO_API_KEY'), // project key of the default project, owner role
    orgKey: env('PATCHBAY_ORG_API_KEY'), // organization key, owner role
    memberKey: env('PATCHBAY_MEMBER_API_KEY'), // project key acting as a member-role member
    memberOrgKey: env('PATCHBAY_MEMBER_ORG_API_KEY'), // organization key acting as that member
  };
}

/**
 * Turns composio-core 0.5.39's npm version check off. Every `new
 * Composio()` (and every toolset, which builds one) would otherwise send
 * GET https://registry.npmjs.org/composio-core/latest, and unlike its
 * telemetry no option or environment variable disables it. This is the
 * legacy SDK's counterpart of @composio/core's `disableVersionCheck: true`,
 * for self-hosted setups: the flows then make no off-host attempt at all.
 */
export function disableLegacyVersionCheck(Composio) {
  Composio.prototype.checkForLatestVersionFromNPM = async function noVersionCheck() {};
}
