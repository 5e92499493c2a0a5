// Connecting and authenticating over Socket.io with the official clients, on both transports:
// the Engine.IO session (long-polling upgraded to WebSocket, or WebSocket from the start),
// local login, reAuthenticate with a stored token, logout, and NotAuthenticated for a service
// with `auth: jwt` when the connection is not logged in.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const errors = require('@feathersjs/errors');

const { rejection } = require('../lib/plume');
const {
  TRANSPORTS,
  connect,
  signUpAndLogin,
  startServer,
  unique,
  uniqueEmail,
  waitForConnect
} = require('../lib/socket');

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  if (server) await server.stop();
});

describe('engine.io session', () => {
  it('the default client opens a long-polling session and upgrades it to websocket', async () => {
    const { socket, close } = connect(server.url, TRANSPORTS[0]);
    try {
      const engine = socket.io.engine;
      assert.equal(engine.transport.name, 'polling');
      const upgraded = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no upgrade within 5 s')), 5_000);
        engine.once('upgrade', (transport) => {
          clearTimeout(timer);
          resolve(transport.name);
        });
      });
      const [, upgradedTo] = await Promise.all([waitForConnect(socket), upgraded]);
      assert.equal(upgradedTo, 'websocket');
      assert.equal(engine.transport.name, 'websocket');
    } finally {
      close();
    }
  });

  it('a websocket-only client connects without polling', async () => {
    const { socket, close } = connect(server.url, TRANSPORTS[1]);
    try {
      await waitForConnect(socket);
      assert.equal(socket.io.engine.transport.name, 'websocket');
      assert.equal(typeof socket.id, 'string');
    } finally {
      close();
    }
  });
});

for (const transport of TRANSPORTS) {
  describe(`authentication over ${transport.name}`, () => {
    it('signing up returns the user without its password', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const email = uniqueEmail('signup');
        const user = await app.service('users').create({ email, password: 'secret-1' });
        assert.equal(user.email, email);
        assert.ok(user.id !== undefined && user.id !== null);
        assert.ok(!('password' in user), 'the password is never returned');
        const fetched = await app.service('users').get(user.id);
        assert.ok(!('password' in fetched));
      } finally {
        close();
      }
    });

    it('local login returns an access token, the strategy and the user', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const { email, user, login } = await signUpAndLogin(app, 'login');
        assert.match(login.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
        assert.equal(login.authentication.strategy, 'local');
        assert.equal(login.authentication.payload.sub, String(user.id), 'sub is the user id as a string');
        assert.deepEqual(login.user, { email, id: user.id });
        const header = JSON.parse(Buffer.from(login.accessToken.split('.')[0], 'base64url'));
        assert.deepEqual(header, { alg: 'HS256', typ: 'access' });
      } finally {
        close();
      }
    });

    it('a wrong password or an unknown email is NotAuthenticated: Invalid login', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const { email } = await signUpAndLogin(app, 'wrong');
        await app.logout();
        const wrongPassword = await rejection(() => app.authenticate({ strategy: 'local', email, password: 'nope' }));
        assert.ok(wrongPassword instanceof errors.NotAuthenticated);
        assert.equal(wrongPassword.code, 401);
        assert.equal(wrongPassword.message, 'Invalid login');
        const unknown = await rejection(() =>
          app.authenticate({ strategy: 'local', email: uniqueEmail('nobody'), password: 'x' })
        );
        assert.ok(unknown instanceof errors.NotAuthenticated);
        assert.equal(unknown.message, 'Invalid login');
      } finally {
        close();
      }
    });

    it('a service with auth: jwt is NotAuthenticated for a connection that has not logged in', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const error = await rejection(() => app.service('messages').find());
        assert.ok(error instanceof errors.NotAuthenticated);
        assert.equal(error.code, 401);
        assert.equal(error.className, 'not-authenticated');
        assert.equal(error.message, 'Not authenticated');
        const create = await rejection(() => app.service('messages').create({ text: 'anonymous' }));
        assert.ok(create instanceof errors.NotAuthenticated);
      } finally {
        close();
      }
    });

    it('after login the connection may call the service with auth: jwt', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        await signUpAndLogin(app, 'caller');
        const text = `hello ${unique()}`;
        const created = await app.service('messages').create({ text });
        assert.equal(created.text, text);
        const page = await app.service('messages').find({ query: { text } });
        assert.equal(page.total, 1);
      } finally {
        close();
      }
    });

    it('reAuthenticate on a new connection logs in with the stored token (jwt strategy)', async () => {
      const first = connect(server.url, transport);
      let second;
      try {
        const { user, login } = await signUpAndLogin(first.app, 'reauth');
        // A second client app on its own socket, sharing the first one's token storage, as a
        // reloaded page shares localStorage.
        second = connect(server.url, transport, first.app.get('storage'));
        const result = await second.app.reAuthenticate();
        assert.equal(result.accessToken, login.accessToken, 'the same token comes back');
        assert.equal(result.authentication.strategy, 'jwt');
        assert.equal(result.authentication.accessToken, login.accessToken);
        assert.equal(result.user.id, user.id);
        assert.ok(!('password' in result.user));
        const page = await second.app.service('messages').find({ query: { $limit: 1 } });
        assert.equal(typeof page.total, 'number');
        // reAuthenticate without force answers from the client's state; with force it asks again.
        assert.equal((await second.app.reAuthenticate()).accessToken, login.accessToken);
        assert.equal((await second.app.reAuthenticate(true)).authentication.strategy, 'jwt');
      } finally {
        first.close();
        if (second) second.close();
      }
    });

    it('a token that is not a valid JWT is NotAuthenticated', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const error = await rejection(() => app.authenticate({ strategy: 'jwt', accessToken: 'not-a-token' }));
        assert.ok(error instanceof errors.NotAuthenticated);
        assert.equal(error.code, 401);
      } finally {
        close();
      }
    });

    it('logout ends the authentication of the connection', async () => {
      const { app, close } = connect(server.url, transport);
      try {
        const { login } = await signUpAndLogin(app, 'logout');
        const result = await app.logout();
        assert.equal(result.accessToken, login.accessToken);
        assert.equal(await app.authentication.getAccessToken(), null, 'the client forgot the token');
        const error = await rejection(() => app.service('messages').find());
        assert.ok(error instanceof errors.NotAuthenticated);
        assert.equal(error.message, 'Not authenticated');
      } finally {
        close();
      }
    });
  });
}
