// Every query operator through the official REST client, whose query strings carry only
// strings: values of fields with a schema type are coerced (numbers, booleans), values of
// fields without one stay strings. The same data and queries run on the memory store and SQLite.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');

const config = require('./lib/config');
const { client, startPlume } = require('./lib/plume');

const PEOPLE = [
  { name: 'Alice', age: 30, score: 9.5, active: true, city: 'Paris' },
  { name: 'Bob', age: 25, score: 7.25, active: false, city: 'Berlin' },
  { name: 'Carol', age: 35, score: 8, active: true, city: 'Paris' },
  { name: 'Dave', age: 20, score: 6.5, active: false, city: 'Rome' },
  { name: 'Eve', age: 28, score: 9, active: true, city: 'Berlin' }
];

let server;
let app;

before(async () => {
  server = await startPlume(config);
  app = client(server.url);
  for (const path of ['people', 'sqlpeople']) {
    for (const person of PEOPLE) await app.service(path).create(person);
  }
});

after(async () => {
  if (server) await server.stop();
});

const names = (records) => records.map((record) => record.name).sort();

for (const path of ['people', 'sqlpeople']) {
  describe(`${path}: query operators`, () => {
    const find = (query) => app.service(path).find({ query });

    it('equality on an integer field compares numbers', async () => {
      assert.deepEqual(names(await find({ age: 30 })), ['Alice']);
    });

    it('equality on a boolean field coerces "false"', async () => {
      assert.deepEqual(names(await find({ active: false })), ['Bob', 'Dave']);
      assert.deepEqual(names(await find({ active: true })), ['Alice', 'Carol', 'Eve']);
    });

    it('equality on a string field compares the string', async () => {
      assert.deepEqual(names(await find({ city: 'Paris' })), ['Alice', 'Carol']);
    });

    it('$lt, $lte, $gt and $gte compare numbers, not strings', async () => {
      assert.deepEqual(names(await find({ age: { $lt: 25 } })), ['Dave']);
      assert.deepEqual(names(await find({ age: { $lte: 25 } })), ['Bob', 'Dave']);
      assert.deepEqual(names(await find({ age: { $gt: 30 } })), ['Carol']);
      assert.deepEqual(names(await find({ age: { $gte: 30 } })), ['Alice', 'Carol']);
      // As strings "9" > "30"; as numbers nobody is younger than 9.
      assert.deepEqual(names(await find({ age: { $lt: 9 } })), []);
    });

    it('comparisons on a number field accept decimals', async () => {
      assert.deepEqual(names(await find({ score: { $gt: 8.5 } })), ['Alice', 'Eve']);
      assert.deepEqual(names(await find({ score: 7.25 })), ['Bob']);
    });

    it('range with two operators on one field', async () => {
      assert.deepEqual(names(await find({ age: { $gt: 21, $lt: 30 } })), ['Bob', 'Eve']);
    });

    it('$ne excludes a value', async () => {
      assert.deepEqual(names(await find({ city: { $ne: 'Paris' } })), ['Bob', 'Dave', 'Eve']);
      assert.deepEqual(names(await find({ active: { $ne: true } })), ['Bob', 'Dave']);
    });

    it('$in and $nin take lists, coerced item by item', async () => {
      assert.deepEqual(names(await find({ age: { $in: [20, 35] } })), ['Carol', 'Dave']);
      assert.deepEqual(names(await find({ age: { $nin: [20, 35] } })), ['Alice', 'Bob', 'Eve']);
      assert.deepEqual(names(await find({ city: { $in: ['Rome', 'Berlin'] } })), ['Bob', 'Dave', 'Eve']);
    });

    it('$or matches any of its queries', async () => {
      assert.deepEqual(names(await find({ $or: [{ age: 20 }, { city: 'Paris' }] })), ['Alice', 'Carol', 'Dave']);
    });

    it('$and matches all of its queries, and combines with $or', async () => {
      assert.deepEqual(names(await find({ $and: [{ age: { $gt: 21 } }, { age: { $lt: 30 } }] })), ['Bob', 'Eve']);
      assert.deepEqual(
        names(await find({ $and: [{ $or: [{ city: 'Paris' }, { city: 'Rome' }] }, { active: true }] })),
        ['Alice', 'Carol']
      );
    });

    it('$sort orders by one key, ascending or descending', async () => {
      assert.deepEqual((await find({ $sort: { age: 1 } })).map((p) => p.name), ['Dave', 'Bob', 'Eve', 'Alice', 'Carol']);
      assert.deepEqual((await find({ $sort: { score: -1 } })).map((p) => p.name), ['Alice', 'Eve', 'Carol', 'Bob', 'Dave']);
    });

    it('$sort with several keys keeps their order', async () => {
      const sorted = await find({ $sort: { city: 1, age: -1 } });
      assert.deepEqual(sorted.map((p) => p.name), ['Eve', 'Bob', 'Carol', 'Alice', 'Dave']);
    });

    it('$limit and $skip page through sorted results', async () => {
      const page = await find({ $sort: { age: 1 }, $skip: 1, $limit: 2 });
      assert.deepEqual(page.map((p) => p.name), ['Bob', 'Eve']);
    });

    it('$select returns the selected fields and the id', async () => {
      const selected = await find({ name: 'Alice', $select: ['name', 'age'] });
      assert.equal(selected.length, 1);
      assert.deepEqual(Object.keys(selected[0]).sort(), ['age', 'id', 'name']);
      assert.equal(selected[0].age, 30);
    });

    it('filters, operators and $or combine in one query', async () => {
      const found = await find({
        $or: [{ city: 'Berlin' }, { score: { $gte: 9.5 } }],
        active: true,
        $sort: { name: -1 },
        $select: ['name']
      });
      assert.deepEqual(found.map((p) => p.name), ['Eve', 'Alice']);
    });
  });
}

describe('query strings written by hand', () => {
  // Browsers and curl send brackets and $ unencoded; the Feathers client percent-encodes them.
  it('unencoded brackets parse like encoded ones', async () => {
    const reply = await fetch(`${server.url}/people?age[$gte]=30&active=true&$sort[age]=-1&$select[]=name`);
    assert.equal(reply.status, 200);
    const found = await reply.json();
    assert.deepEqual(found.map((p) => p.name), ['Carol', 'Alice']);
    assert.deepEqual(Object.keys(found[0]).sort(), ['id', 'name']);
  });

  it('$or with indices and repeated keys for $in', async () => {
    const reply = await fetch(`${server.url}/sqlpeople?$or[0][city]=Rome&$or[1][age][$in]=25&$or[1][age][$in]=28`);
    assert.equal(reply.status, 200);
    assert.deepEqual(names(await reply.json()), ['Bob', 'Dave', 'Eve']);
  });
});

describe('a service without a schema', () => {
  it('keeps query values as strings: a number stored as a number does not match "1"', async () => {
    await app.service('notes').create({ label: 'number', n: 1 });
    await app.service('notes').create({ label: 'string', n: '1' });
    const found = await app.service('notes').find({ query: { n: 1 } });
    assert.deepEqual(found.map((note) => note.label), ['string']);
  });
});
