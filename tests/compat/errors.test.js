// Errors as the official client sees them: Feathers' JSON shape on the wire, rebuilt into the
// right @feathersjs/errors class by name; bad filters and operators, methods a service does not
// expose (405), unknown paths (404), and custom methods over X-Service-Method.
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
  app = client(server.url, { people: ['shout'] });
});

after(async () => {
  if (server) await server.stop();
});

describe('error shape', () => {
  it('NotFound on the wire is {name, message, code, className} with status 404', async () => {
    const reply = await fetch(`${server.url}/people/424242`);
    assert.equal(reply.status, 404);
    assert.match(reply.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await reply.json(), {
      name: 'NotFound',
      message: "No record found for id '424242'",
      code: 404,
      className: 'not-found'
    });
  });

  it('the client rebuilds NotFound as its class with name and code', async () => {
    const error = await rejection(() => app.service('people').get(424242));
    assert.ok(error instanceof errors.NotFound);
    assert.ok(error instanceof errors.FeathersError);
    assert.equal(error.name, 'NotFound');
    assert.equal(error.code, 404);
    assert.equal(error.className, 'not-found');
    assert.equal(error.message, "No record found for id '424242'");
  });
});

describe('bad queries', () => {
  it('an unknown top-level filter is BadRequest', async () => {
    const error = await rejection(() => app.service('people').find({ query: { $foo: 1 } }));
    assert.ok(error instanceof errors.BadRequest);
    assert.equal(error.code, 400);
    assert.equal(error.message, 'Invalid filter value $foo');
  });

  it('an operator that is not allowed is BadRequest', async () => {
    const error = await rejection(() => app.service('people').find({ query: { name: { $regex: 'A.*' } } }));
    assert.ok(error instanceof errors.BadRequest);
    assert.equal(error.message, 'Invalid query parameter $regex');
  });

  it('a field outside the schema is BadRequest, as with a v5 app\'s querySyntax', async () => {
    const error = await rejection(() => app.service('people').find({ query: { country: 'Norway' } }));
    assert.ok(error instanceof errors.BadRequest);
    assert.equal(error.message, "Invalid query field 'country'");
  });

  it('a record with a field outside a strict schema is BadRequest with Ajv\'s error, as with a v5 app', async () => {
    for (const write of [
      () => app.service('pages').create({ title: 'strict', isAdmin: true }),
      () => app.service('pages').patch(1, { isAdmin: true }),
      () => app.service('pages').update(1, { title: 'strict', isAdmin: true })
    ]) {
      const error = await rejection(write);
      assert.ok(error instanceof errors.BadRequest);
      assert.equal(error.message, 'validation failed');
      assert.deepEqual(error.data, [
        {
          instancePath: '',
          schemaPath: '#/additionalProperties',
          keyword: 'additionalProperties',
          params: { additionalProperty: 'isAdmin' },
          message: 'must NOT have additional properties'
        }
      ]);
    }
  });

  it('a value that does not parse as the field type is BadRequest', async () => {
    const error = await rejection(() => app.service('people').find({ query: { age: 'old' } }));
    assert.ok(error instanceof errors.BadRequest);
    assert.equal(error.name, 'BadRequest');
  });
});

describe('methods', () => {
  it('a method the service does not expose is MethodNotAllowed (405)', async () => {
    const error = await rejection(() => app.service('locked').create({ text: 'no' }));
    assert.ok(error instanceof errors.MethodNotAllowed);
    assert.equal(error.code, 405);
    assert.equal(error.message, 'Method `create` is not supported by this endpoint.');
    assert.deepEqual(await app.service('locked').find(), []);
  });

  it('a custom method the service does not have is MethodNotAllowed', async () => {
    const error = await rejection(() => app.service('people').shout({ text: 'hi' }));
    assert.ok(error instanceof errors.MethodNotAllowed);
    assert.equal(error.message, 'Method `shout` is not supported by this endpoint.');
  });

  it('X-Service-Method naming a standard method is MethodNotAllowed', async () => {
    const reply = await fetch(`${server.url}/people`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Service-Method': 'find' },
      body: '{}'
    });
    assert.equal(reply.status, 405);
    const body = await reply.json();
    assert.equal(body.name, 'MethodNotAllowed');
    assert.equal(body.message, 'Method `find` is not supported by this endpoint.');
  });
});

describe('unknown paths', () => {
  it('a path no service owns is NotFound (404)', async () => {
    const reply = await fetch(`${server.url}/no-such-service`);
    assert.equal(reply.status, 404);
    const body = await reply.json();
    assert.equal(body.name, 'NotFound');
    assert.equal(body.code, 404);
    assert.equal(body.className, 'not-found');
  });

  it('the client sees NotFound for a service the server does not have', async () => {
    const error = await rejection(() => app.service('no-such-service').find());
    assert.ok(error instanceof errors.NotFound);
    assert.equal(error.code, 404);
  });
});

describe('malformed bodies', () => {
  // Express' body parser fails here and Feathers' error handler answers 500 GeneralError; a body
  // that is not JSON is the caller's mistake, so plume answers 400 BadRequest.
  it('invalid JSON is BadRequest', async () => {
    const reply = await fetch(`${server.url}/people`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name": '
    });
    assert.equal(reply.status, 400);
    assert.equal((await reply.json()).name, 'BadRequest');
  });
});
