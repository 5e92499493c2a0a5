// Reconnecting, on both transports: when the Engine.IO connection drops, socket.io-client
// reconnects on its own and @feathersjs/authentication-client authenticates the new connection
// again with its stored token (strategy jwt); calls and events then work as before.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');

const {
  TRANSPORTS,
  connect,
  nextEvent,
  signUpAndLogin,
  startServer,
  unique,
  waitForConnect
} = require('../lib/socket');

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  if (server) await server.stop();
});

for (const transport of TRANSPORTS) {
  describe(`reconnect over ${transport.name}`, () => {
    it('after the connection drops the client reconnects, logs in again, and calls and events work', async () => {
      const writer = connect(server.url, transport);
      const reader = connect(server.url, transport);
      try {
        await signUpAndLogin(writer.app, 'writer');
        const { user, login } = await signUpAndLogin(reader.app, 'dropped');
        const firstSocketId = reader.socket.id;

        const reconnected = new Promise((resolve) => reader.socket.io.once('reconnect', resolve));
        const loggedInAgain = new Promise((resolve) => reader.app.once('login', resolve));
        // Closes the Engine.IO transport as a network failure would; the client did not ask to
        // disconnect, so it reconnects.
        reader.socket.io.engine.close();
        await reconnected;
        await waitForConnect(reader.socket);
        assert.notEqual(reader.socket.id, firstSocketId, 'a new Socket.IO session');

        const again = await loggedInAgain;
        assert.equal(again.authentication.strategy, 'jwt');
        assert.equal(again.accessToken, login.accessToken);
        assert.equal(again.user.id, user.id);

        const page = await reader.app.service('messages').find({ query: { $limit: 1 } });
        assert.equal(typeof page.total, 'number');

        const text = `after reconnect ${unique()}`;
        const event = nextEvent(reader.app.service('messages'), 'created', (data) => data.text === text);
        const created = await writer.app.service('messages').create({ text });
        assert.deepEqual(await event, created);
      } finally {
        writer.close();
        reader.close();
      }
    });
  });
}
