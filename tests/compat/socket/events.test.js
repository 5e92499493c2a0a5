// Service events over Socket.io, on both transports: `created`, `updated`, `patched` and
// `removed` reach the other authenticated connections with the call's result, once per record
// of a multi call; anonymous and logged-out connections get nothing (events are published to
// authenticated connections); a user's event never carries the password.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');

const { sleep } = require('../lib/plume');
const {
  SILENCE_MS,
  TRANSPORTS,
  collectEvents,
  connect,
  nextEvent,
  signUpAndLogin,
  startServer,
  unique,
  uniqueEmail,
  waitForConnect,
  waitUntil
} = require('../lib/socket');

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  if (server) await server.stop();
});

for (const transport of TRANSPORTS) {
  describe(`events over ${transport.name}`, () => {
    let writer;
    let reader;

    before(async () => {
      writer = connect(server.url, transport);
      reader = connect(server.url, transport);
      await signUpAndLogin(writer.app, 'writer');
      await signUpAndLogin(reader.app, 'reader');
    });

    after(() => {
      writer.close();
      reader.close();
    });

    it('created reaches another authenticated connection with the created record', async () => {
      const text = `created ${unique()}`;
      const event = nextEvent(reader.app.service('messages'), 'created', (data) => data.text === text);
      const created = await writer.app.service('messages').create({ text });
      assert.deepEqual(await event, created);
    });

    it('the connection that made the call gets the event too', async () => {
      const text = `own ${unique()}`;
      const event = nextEvent(writer.app.service('messages'), 'created', (data) => data.text === text);
      const created = await writer.app.service('messages').create({ text });
      assert.deepEqual(await event, created);
    });

    it('updated, patched and removed carry the results of update, patch and remove', async () => {
      const messages = writer.app.service('messages');
      const seen = reader.app.service('messages');
      const created = await messages.create({ text: `changing ${unique()}`, n: 1 });
      const sameId = (data) => data.id === created.id;

      let event = nextEvent(seen, 'updated', sameId);
      const updated = await messages.update(created.id, { text: 'replaced', n: 2, createdAt: created.createdAt });
      assert.deepEqual(await event, updated);

      event = nextEvent(seen, 'patched', sameId);
      const patched = await messages.patch(created.id, { n: 3 });
      assert.deepEqual(await event, patched);

      event = nextEvent(seen, 'removed', sameId);
      const removed = await messages.remove(created.id);
      assert.deepEqual(await event, removed);
    });

    it('a multi patch sends one patched event per record', async () => {
      const tag = unique();
      const messages = writer.app.service('messages');
      const first = await messages.create({ text: tag, n: 1 });
      const second = await messages.create({ text: tag, n: 2 });
      const { seen, stop } = collectEvents(reader.app.service('messages'), 'patched', (data) => data.text === tag);
      const patched = await messages.patch(null, { n: 5 }, { query: { text: tag } });
      await waitUntil(() => seen.length >= 2);
      await sleep(SILENCE_MS);
      const events = stop();
      assert.equal(events.length, 2, 'one event per patched record, no more');
      const byId = (a, b) => String(a.id).localeCompare(String(b.id));
      assert.deepEqual([...events].sort(byId), [...patched].sort(byId));
      assert.deepEqual(events.map((data) => data.id).sort(), [first.id, second.id].sort());
    });

    it('an anonymous connection gets no events', async () => {
      const anonymous = connect(server.url, transport);
      try {
        await waitForConnect(anonymous.socket);
        const text = `private ${unique()}`;
        const { stop } = collectEvents(anonymous.app.service('messages'), 'created', (data) => data.text === text);
        const delivered = nextEvent(reader.app.service('messages'), 'created', (data) => data.text === text);
        await writer.app.service('messages').create({ text });
        await delivered;
        await sleep(SILENCE_MS);
        assert.deepEqual(stop(), []);
      } finally {
        anonymous.close();
      }
    });

    it('a connection that logged out gets no more events', async () => {
      const leaving = connect(server.url, transport);
      try {
        await signUpAndLogin(leaving.app, 'leaving');
        const before = `before logout ${unique()}`;
        const received = nextEvent(leaving.app.service('messages'), 'created', (data) => data.text === before);
        await writer.app.service('messages').create({ text: before });
        await received;

        await leaving.app.logout();
        const after = `after logout ${unique()}`;
        const { stop } = collectEvents(leaving.app.service('messages'), 'created', (data) => data.text === after);
        const delivered = nextEvent(reader.app.service('messages'), 'created', (data) => data.text === after);
        await writer.app.service('messages').create({ text: after });
        await delivered;
        await sleep(SILENCE_MS);
        assert.deepEqual(stop(), []);
      } finally {
        leaving.close();
      }
    });

    it('a user created event does not carry the password', async () => {
      const email = uniqueEmail('evented');
      const event = nextEvent(reader.app.service('users'), 'created', (data) => data.email === email);
      const user = await writer.app.service('users').create({ email, password: 'not-for-your-eyes' });
      const data = await event;
      assert.deepEqual(data, user);
      assert.ok(!('password' in data));
    });
  });
}
