// Every service method through @feathersjs/socketio-client, on both transports: results as over
// REST, query values keeping their JSON types, pagination, multi calls, and errors rebuilt into
// their @feathersjs/errors class with Feathers' messages.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const errors = require('@feathersjs/errors');

const { rejection } = require('../lib/plume');
const { TRANSPORTS, connect, signUpAndLogin, startServer, unique } = require('../lib/socket');

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  if (server) await server.stop();
});

for (const transport of TRANSPORTS) {
  describe(`methods over ${transport.name}`, () => {
    let client;
    let messages;

    before(async () => {
      client = connect(server.url, transport);
      await signUpAndLogin(client.app, 'methods');
      messages = client.app.service('messages');
    });

    after(() => client.close());

    it('create returns the stored record with an id and the schema default', async () => {
      const created = await messages.create({ text: 'first', n: 1 });
      assert.ok(created.id !== undefined && created.id !== null);
      assert.equal(created.text, 'first');
      assert.equal(created.n, 1);
      assert.ok(!Number.isNaN(Date.parse(created.createdAt)), 'createdAt is a date-time');
    });

    it('get returns what create stored', async () => {
      const created = await messages.create({ text: 'to get', n: 2 });
      assert.deepEqual(await messages.get(created.id), created);
    });

    it('find is paginated and the query keeps numbers as numbers', async () => {
      const tag = unique();
      for (let n = 1; n <= 4; n++) await messages.create({ text: tag, n });
      const page = await messages.find({ query: { text: tag, n: { $gt: 2 }, $sort: { n: -1 } } });
      assert.deepEqual(Object.keys(page).sort(), ['data', 'limit', 'skip', 'total']);
      assert.equal(page.total, 2);
      assert.equal(page.limit, 10);
      assert.equal(page.skip, 0);
      assert.deepEqual(page.data.map((message) => message.n), [4, 3]);
      const limited = await messages.find({ query: { text: tag, $limit: 1, $skip: 1, $sort: { n: 1 } } });
      assert.equal(limited.total, 4);
      assert.deepEqual(limited.data.map((message) => message.n), [2]);
      const selected = await messages.find({ query: { text: tag, n: 1, $select: ['n'] } });
      assert.deepEqual(Object.keys(selected.data[0]).sort(), ['id', 'n']);
    });

    it('$in, $or and $ne filter as over REST', async () => {
      const tag = unique();
      for (let n = 1; n <= 3; n++) await messages.create({ text: tag, n });
      const inList = await messages.find({ query: { text: tag, n: { $in: [1, 3] }, $sort: { n: 1 } } });
      assert.deepEqual(inList.data.map((message) => message.n), [1, 3]);
      const either = await messages.find({ query: { text: tag, $or: [{ n: 1 }, { n: 2 }], $sort: { n: 1 } } });
      assert.deepEqual(either.data.map((message) => message.n), [1, 2]);
      const notTwo = await messages.find({ query: { text: tag, n: { $ne: 2 }, $sort: { n: 1 } } });
      assert.deepEqual(notTwo.data.map((message) => message.n), [1, 3]);
    });

    it('update replaces the record and keeps its id', async () => {
      const created = await messages.create({ text: 'old', n: 5 });
      const updated = await messages.update(created.id, { text: 'new', n: 6, createdAt: created.createdAt });
      assert.equal(updated.id, created.id);
      assert.equal(updated.text, 'new');
      assert.equal(updated.n, 6);
      assert.deepEqual(await messages.get(created.id), updated);
    });

    it('patch merges fields into the record', async () => {
      const created = await messages.create({ text: 'patch me', n: 7 });
      const patched = await messages.patch(created.id, { n: 8 });
      assert.deepEqual(patched, { ...created, n: 8 });
    });

    it('patch and remove with id null act on every match when multi allows it', async () => {
      const tag = unique();
      await messages.create({ text: tag, n: 1 });
      await messages.create({ text: tag, n: 2 });
      const patched = await messages.patch(null, { n: 9 }, { query: { text: tag } });
      assert.ok(Array.isArray(patched));
      assert.deepEqual(patched.map((message) => message.n), [9, 9]);
      const removed = await messages.remove(null, { query: { text: tag } });
      assert.equal(removed.length, 2);
      assert.equal((await messages.find({ query: { text: tag } })).total, 0);
    });

    it('remove returns the record, after which get is NotFound', async () => {
      const created = await messages.create({ text: 'remove me' });
      assert.deepEqual(await messages.remove(created.id), created);
      const error = await rejection(() => messages.get(created.id));
      assert.ok(error instanceof errors.NotFound);
      assert.equal(error.code, 404);
      assert.equal(error.className, 'not-found');
      assert.equal(error.message, `No record found for id '${created.id}'`);
    });

    it('a service without auth answers anonymous connections; without pagination find is an array', async () => {
      const anonymous = connect(server.url, transport);
      try {
        const notes = anonymous.app.service('notes');
        const tag = unique();
        const created = await notes.create({ tag, flag: true, count: 3 });
        const found = await notes.find({ query: { tag, flag: true, count: 3 } });
        assert.deepEqual(found, [created], 'JSON types in the query match the stored JSON types');
        assert.deepEqual(await notes.patch(created.id, { count: 4 }), { ...created, count: 4 });
        assert.deepEqual(await notes.remove(created.id), { ...created, count: 4 });
      } finally {
        anonymous.close();
      }
    });
  });

  describe(`errors over ${transport.name}`, () => {
    let client;

    before(async () => {
      client = connect(server.url, transport);
      await signUpAndLogin(client.app, 'errors');
    });

    after(() => client.close());

    it('a record that breaks the schema is BadRequest', async () => {
      const error = await rejection(() => client.app.service('messages').create({ n: 1 }));
      assert.ok(error instanceof errors.BadRequest);
      assert.equal(error.code, 400);
      assert.equal(error.className, 'bad-request');
    });

    it('an unknown filter is BadRequest with Feathers\' message', async () => {
      const error = await rejection(() => client.app.service('notes').find({ query: { $foo: 1 } }));
      assert.ok(error instanceof errors.BadRequest);
      assert.equal(error.message, 'Invalid filter value $foo');
    });

    it('more arguments than the method takes is BadRequest', async () => {
      // Straight on the socket: the client library never sends this. (With ackTimeout set,
      // socket.io-client passes its own timeout error first, then the server's ack arguments.)
      const reply = await new Promise((resolve) =>
        client.socket.emit('get', 'notes', 1, {}, {}, (timeout, error) => resolve(timeout || error))
      );
      assert.deepEqual(reply, {
        name: 'BadRequest',
        message: "Too many arguments for 'get' method",
        code: 400,
        className: 'bad-request'
      });
    });

    it('get of a missing id is NotFound with Feathers\' message', async () => {
      const error = await rejection(() => client.app.service('notes').get(987654));
      assert.ok(error instanceof errors.NotFound);
      assert.equal(error.message, "No record found for id '987654'");
    });

    it('a service the server does not have is NotFound', async () => {
      const error = await rejection(() => client.app.service('no-such-service').find());
      assert.ok(error instanceof errors.NotFound);
      assert.equal(error.code, 404);
      assert.equal(error.message, "Service 'no-such-service' not found");
    });

    it('a method the service does not expose is MethodNotAllowed', async () => {
      const error = await rejection(() => client.app.service('locked').create({ text: 'no' }));
      assert.ok(error instanceof errors.MethodNotAllowed);
      assert.equal(error.code, 405);
      assert.equal(error.message, "Method 'create' not allowed on service 'locked'");
      assert.deepEqual(await client.app.service('locked').find(), []);
    });

    it('a multi call the service does not allow is MethodNotAllowed', async () => {
      const error = await rejection(() => client.app.service('messages').create([{ text: 'a' }, { text: 'b' }]));
      assert.ok(error instanceof errors.MethodNotAllowed);
      assert.equal(error.message, 'Can not create multiple entries');
    });
  });
}
