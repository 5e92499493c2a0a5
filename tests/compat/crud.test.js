// The six standard methods through the official Feathers REST client, on the memory store and
// on SQLite: results, status codes, and NotFound after removal.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const errors = require('@feathersjs/errors');

const config = require('./lib/config');
const { client, rejection, startPlume } = require('./lib/plume');

let server;
let app;

before(async () => {
  server = await startPlume(config);
  app = client(server.url);
});

after(async () => {
  if (server) await server.stop();
});

for (const path of ['people', 'sqlpeople']) {
  describe(`${path}: create, get, find, update, patch, remove`, () => {
    it('create returns the stored record with its id and the schema types', async () => {
      const created = await app.service(path).create({ name: 'Ada', age: 36, score: 9.5, active: true });
      assert.ok(created.id !== undefined && created.id !== null, 'an id is assigned');
      assert.equal(created.name, 'Ada');
      assert.equal(created.age, 36);
      assert.equal(created.score, 9.5);
      assert.equal(created.active, true);
    });

    it('create answers 201 with a JSON body', async () => {
      const reply = await fetch(`${server.url}/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Status' })
      });
      assert.equal(reply.status, 201);
      assert.match(reply.headers.get('content-type'), /^application\/json/);
      assert.equal((await reply.json()).name, 'Status');
    });

    it('get returns what create stored, by the id the URL carries as a string', async () => {
      const created = await app.service(path).create({ name: 'Grace', age: 45 });
      const fetched = await app.service(path).get(created.id);
      assert.deepEqual(fetched, created);
      const byString = await app.service(path).get(String(created.id));
      assert.deepEqual(byString, created);
    });

    it('fields outside the schema are kept', async () => {
      const created = await app.service(path).create({ name: 'Extra', country: 'Norway', tags: ['a', 'b'] });
      const fetched = await app.service(path).get(created.id);
      assert.equal(fetched.country, 'Norway');
      assert.deepEqual(fetched.tags, ['a', 'b']);
    });

    it('find without pagination returns a bare array', async () => {
      const found = await app.service(path).find({ query: { name: 'Grace' } });
      assert.ok(Array.isArray(found));
      assert.equal(found.length, 1);
      assert.equal(found[0].age, 45);
    });

    it('update replaces the whole record and keeps its id', async () => {
      const created = await app.service(path).create({ name: 'Linus', age: 20, active: false });
      const updated = await app.service(path).update(created.id, { name: 'Linus T', age: 21 });
      assert.equal(updated.id, created.id);
      assert.equal(updated.name, 'Linus T');
      assert.equal(updated.age, 21);
      assert.ok(!('active' in updated) || updated.active === null, 'update drops fields it was not given');
      assert.deepEqual(await app.service(path).get(created.id), updated);
    });

    it('patch merges the given fields into the record', async () => {
      const created = await app.service(path).create({ name: 'Barbara', age: 50, active: true });
      const patched = await app.service(path).patch(created.id, { age: 51 });
      assert.deepEqual(patched, { ...created, age: 51 });
      assert.deepEqual(await app.service(path).get(created.id), patched);
    });

    it('remove returns the removed record, after which get is NotFound', async () => {
      const created = await app.service(path).create({ name: 'Ken', age: 70 });
      const removed = await app.service(path).remove(created.id);
      assert.deepEqual(removed, created);
      const error = await rejection(() => app.service(path).get(created.id));
      assert.ok(error instanceof errors.NotFound);
      assert.equal(error.message, `No record found for id '${created.id}'`);
    });

    it('get with an id that does not match the query is NotFound', async () => {
      const created = await app.service(path).create({ name: 'Dennis', age: 40 });
      const error = await rejection(() => app.service(path).get(created.id, { query: { age: 41 } }));
      assert.ok(error instanceof errors.NotFound);
      assert.equal(error.code, 404);
      const fetched = await app.service(path).get(created.id, { query: { age: 40 } });
      assert.equal(fetched.name, 'Dennis');
    });

    it('create of a record that breaks the schema is BadRequest', async () => {
      const missing = await rejection(() => app.service(path).create({ age: 1 }));
      assert.ok(missing instanceof errors.BadRequest);
      assert.equal(missing.code, 400);
      const wrongType = await rejection(() => app.service(path).create({ name: 'X', age: 'old' }));
      assert.ok(wrongType instanceof errors.BadRequest);
    });
  });
}
