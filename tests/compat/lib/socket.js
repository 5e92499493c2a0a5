// What the Socket.io compatibility tests share: the server under test, clients built from the
// official packages (@feathersjs/feathers + @feathersjs/socketio-client over socket.io-client v4,
// with @feathersjs/authentication-client), and helpers to wait for events.
//
// The server is `plume serve` with lib/socket-config.js (PLUME_BINARY, else build/plume). With
// FEATHERS_REFERENCE_URL set, the tests run against that server instead, a stock Feathers 5 app
// with the same services, which is how they are checked against Feathers itself. Such a server
// is shared by every test file, so tests use their own users and tell their records apart by
// unique text rather than counting.
'use strict';

const crypto = require('node:crypto');

const authentication = require('@feathersjs/authentication-client');
const feathers = require('@feathersjs/feathers');
const socketio = require('@feathersjs/socketio-client');
const { io } = require('socket.io-client');

const socketConfig = require('./socket-config');
const { sleep, startPlume } = require('./plume');

// The two ways socket.io-client connects: its default (an Engine.IO long-polling session that
// upgrades to WebSocket) and WebSocket from the first request.
const TRANSPORTS = [
  { name: 'polling, then upgrade to websocket', options: {} },
  { name: 'websocket only', options: { transports: ['websocket'] } }
];

// A call that gets no acknowledgement fails after this long instead of hanging the test.
const ACK_TIMEOUT_MS = 10_000;
const EVENT_TIMEOUT_MS = 5_000;
// How long a test waits to conclude that an event was not delivered.
const SILENCE_MS = 500;

async function startServer() {
  if (process.env.FEATHERS_REFERENCE_URL) {
    return { url: process.env.FEATHERS_REFERENCE_URL.replace(/\/$/, ''), stop: async () => {} };
  }
  return startPlume(socketConfig, { env: { PLUME_AUTH_SECRET: crypto.randomBytes(32).toString('base64') } });
}

const unique = () => crypto.randomBytes(6).toString('hex');
const uniqueEmail = (who = 'user') => `${who}-${unique()}@example.com`;

// A Feathers client app on its own socket. Its access token lives in `storage` (authentication-
// client's in-memory storage by default), so a second client can share a token.
function connect(url, transport, storage) {
  const socket = io(url, { ...transport.options, ackTimeout: ACK_TIMEOUT_MS, forceNew: true });
  const app = feathers.feathers();
  app.configure(socketio(socket));
  app.configure(authentication(storage ? { storage } : {}));
  const close = () => {
    // authentication-client re-authenticates on every disconnect while logged in; this one is
    // on purpose.
    app.authentication.authenticated = false;
    socket.disconnect();
  };
  return { app, socket, close };
}

// Resolves once the Socket.IO connection is up; fails on the first connect_error (with the
// server's reason) or after EVENT_TIMEOUT_MS.
function waitForConnect(socket) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error) => {
      clearTimeout(timer);
      socket.off('connect', done);
      socket.off('connect_error', done);
      if (error) reject(new Error(`socket did not connect: ${error.message}`));
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`no connection within ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS);
    socket.on('connect', done);
    socket.on('connect_error', done);
  });
}

// A user signed up over `app` and logged in with the local strategy.
async function signUpAndLogin(app, who) {
  const email = uniqueEmail(who);
  const password = `pw-${unique()}`;
  const user = await app.service('users').create({ email, password });
  const login = await app.authenticate({ strategy: 'local', email, password });
  return { email, password, user, login };
}

// Resolves with the first `event` of `service` for which `match(data)` holds; fails after
// EVENT_TIMEOUT_MS. Call it before the action that should cause the event.
function nextEvent(service, event, match = () => true) {
  return new Promise((resolve, reject) => {
    const listener = (data) => {
      if (!match(data)) return;
      clearTimeout(timer);
      service.removeListener(event, listener);
      resolve(data);
    };
    const timer = setTimeout(() => {
      service.removeListener(event, listener);
      reject(new Error(`no '${event}' event within ${EVENT_TIMEOUT_MS} ms`));
    }, EVENT_TIMEOUT_MS);
    service.on(event, listener);
  });
}

// Collects the `event`s of `service` that match, from now on: `seen` fills as they arrive,
// `stop()` stops listening and returns them. Used to count events and to show that an event
// did not arrive.
function collectEvents(service, event, match = () => true) {
  const seen = [];
  const listener = (data) => {
    if (match(data)) seen.push(data);
  };
  service.on(event, listener);
  const stop = () => {
    service.removeListener(event, listener);
    return seen;
  };
  return { seen, stop };
}

// Polls `condition` until it holds or EVENT_TIMEOUT_MS pass.
async function waitUntil(condition) {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  while (!condition() && Date.now() < deadline) await sleep(20);
}

module.exports = {
  TRANSPORTS,
  SILENCE_MS,
  startServer,
  connect,
  waitForConnect,
  signUpAndLogin,
  nextEvent,
  collectEvents,
  waitUntil,
  unique,
  uniqueEmail
};
