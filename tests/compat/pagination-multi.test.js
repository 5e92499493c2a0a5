// Pagination ({total, limit, skip, data}, default and max limits) and multi calls: arrays on
// create, patch and remove with id null where multi allows them, Feathers' exact
// MethodNotAllowed messages where it does not.
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
  // multi is off on pages: one create per record.
  for (let rank = 1; rank <= 7; rank++) await app.service('pages').create({ title: `page ${rank}`, rank });
});

after(async () => {
  if (server) await server.stop();
});

describe('pagination', () => {
  it('find returns {total, limit, skip, data} with the default limit', async () => {
    const page = await app.service('pages').find();
    assert.deepEqual(Object.keys(page).sort(), ['data', 'limit', 'skip', 'total']);
    assert.equal(page.total, 7);
    assert.equal(page.limit, 3);
    assert.equal(page.skip, 0);
    assert.equal(page.data.length, 3);
  });

  it('$limit above max is capped at max', async () => {
    const page = await app.service('pages').find({ query: { $limit: 100 } });
    assert.equal(page.limit, 5);
    assert.equal(page.data.length, 5);
  });

  it('$limit 0 counts without returning records', async () => {
    const page = await app.service('pages').find({ query: { $limit: 0 } });
    assert.deepEqual(page, { total: 7, limit: 0, skip: 0, data: [] });
  });

  it('$skip moves through the pages and total counts every match', async () => {
    const page = await app.service('pages').find({ query: { $skip: 6, $sort: { rank: 1 } } });
    assert.equal(page.total, 7);
    assert.equal(page.skip, 6);
    assert.deepEqual(page.data.map((record) => record.rank), [7]);
  });

  it('total counts the records that match the query, before $skip and $limit', async () => {
    const page = await app.service('pages').find({ query: { rank: { $gt: 2 }, $limit: 2, $sort: { rank: -1 } } });
    assert.equal(page.total, 5);
    assert.deepEqual(page.data.map((record) => record.rank), [7, 6]);
  });
});

describe('multi off', () => {
  it('create with an array is MethodNotAllowed', async () => {
    const error = await rejection(() => app.service('pages').create([{ title: 'a' }, { title: 'b' }]));
    assert.ok(error instanceof errors.MethodNotAllowed);
    assert.equal(error.code, 405);
    assert.equal(error.message, 'Can not create multiple entries');
  });

  it('patch with id null is MethodNotAllowed', async () => {
    const error = await rejection(() => app.service('pages').patch(null, { title: 'x' }, { query: { rank: 1 } }));
    assert.ok(error instanceof errors.MethodNotAllowed);
    assert.equal(error.message, 'Can not patch multiple entries');
  });

  it('remove with id null is MethodNotAllowed', async () => {
    const error = await rejection(() => app.service('pages').remove(null, { query: { rank: 1 } }));
    assert.ok(error instanceof errors.MethodNotAllowed);
    assert.equal(error.message, 'Can not remove multiple entries');
    assert.equal((await app.service('pages').find({ query: { $limit: 0 } })).total, 7);
  });

  it('update with id null is BadRequest', async () => {
    const error = await rejection(() => app.service('pages').update(null, { title: 'x' }));
    assert.ok(error instanceof errors.BadRequest);
    assert.equal(error.message, "You can not replace multiple instances. Did you mean 'patch'?");
  });
});

for (const path of ['people', 'sqlpeople']) {
  describe(`${path}: multi on`, () => {
    it('create with an array creates every record and returns them in order', async () => {
      const created = await app.service(path).create([
        { name: 'm1', age: 1, active: false },
        { name: 'm2', age: 2, active: false },
        { name: 'm3', age: 3, active: true }
      ]);
      assert.ok(Array.isArray(created));
      assert.deepEqual(created.map((record) => record.name), ['m1', 'm2', 'm3']);
      assert.equal(new Set(created.map((record) => record.id)).size, 3);
    });

    it('patch with id null patches the records the query selects', async () => {
      const patched = await app.service(path).patch(null, { active: true }, { query: { active: false, age: { $lt: 10 } } });
      assert.deepEqual(patched.map((record) => record.name).sort(), ['m1', 'm2']);
      assert.ok(patched.every((record) => record.active === true));
      const found = await app.service(path).find({ query: { age: { $lt: 10 }, active: true } });
      assert.equal(found.length, 3);
    });

    it('remove with id null removes the records the query selects', async () => {
      const removed = await app.service(path).remove(null, { query: { age: { $in: [1, 3] } } });
      assert.deepEqual(removed.map((record) => record.name).sort(), ['m1', 'm3']);
      const left = await app.service(path).find({ query: { age: { $lt: 10 } } });
      assert.deepEqual(left.map((record) => record.name), ['m2']);
    });
  });
}
