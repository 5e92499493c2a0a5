// Operations endpoints every node serves: liveness, readiness and Prometheus metrics.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');

const config = require('./lib/config');
const { client, startPlume } = require('./lib/plume');

let server;

before(async () => {
  server = await startPlume(config);
});

after(async () => {
  if (server) await server.stop();
});

describe('operations endpoints', () => {
  it('GET /healthz answers 200 while the process runs', async () => {
    const reply = await fetch(`${server.url}/healthz`);
    assert.equal(reply.status, 200);
  });

  it('GET /readyz answers 200 once the SQLite database is open', async () => {
    const reply = await fetch(`${server.url}/readyz`);
    assert.equal(reply.status, 200);
  });

  it('GET /metrics is Prometheus text with samples after a request', async () => {
    await client(server.url).service('people').find();
    const reply = await fetch(`${server.url}/metrics`);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type'), /^text\/plain/);
    const text = await reply.text();
    assert.match(text, /^# TYPE \S+ (counter|gauge|histogram)$/m);
    assert.match(text, /^[a-zA-Z_:][\w:]*(\{[^}]*\})? ([-+\d.eE]+|NaN|[-+]Inf)$/m, 'at least one sample');
  });

  it('SIGTERM stops the server cleanly', async () => {
    await server.stop();
    assert.deepEqual(server.exitStatus(), { code: 0, signal: null });
    server = null;
  });
});
