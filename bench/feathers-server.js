// The Feathers 5 peer for bench/run.sh: Express transport, an in-memory `messages` service
// paginated like plume's ({default: 10, max: 50}), and the two things plume's schema does for
// the same config: coercing query strings of typed fields (userId) and stamping createdAt.
// Both are plain hooks here, lighter than the Ajv schemas a generated v5 app would run.
//
//   node bench/feathers-server.js [port]     (default 3102)
'use strict';

const { feathers } = require('@feathersjs/feathers');
const express = require('@feathersjs/express');
const { MemoryService } = require('@feathersjs/memory');
const { BadRequest } = require('@feathersjs/errors');

const port = Number(process.argv[2] || process.env.BENCH_PORT || 3102);

// Query strings arrive as strings; userId is an integer field.
function coerceUserId(context) {
  const query = context.params.query || {};
  const coerce = (value) => {
    if (typeof value !== 'string') return value;
    if (!/^-?\d+$/.test(value)) throw new BadRequest(`userId must be an integer, got '${value}'`);
    return Number(value);
  };
  if (query.userId !== undefined) {
    const value = query.userId;
    query.userId =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([op, v]) => [op, Array.isArray(v) ? v.map(coerce) : coerce(v)]))
        : coerce(value);
  }
}

function validateMessage(context) {
  const { text } = context.data || {};
  if (typeof text !== 'string' || text.length === 0) throw new BadRequest('text is required');
  if (text.length > 2000) throw new BadRequest('text is longer than 2000 characters');
  context.data = { ...context.data, createdAt: context.data.createdAt || new Date().toISOString() };
}

const app = express.default(feathers());
app.use(express.json());
app.configure(express.rest());
app.use('messages', new MemoryService({ paginate: { default: 10, max: 50 }, multi: ['create'] }));
app.service('messages').hooks({
  before: { find: [coerceUserId], create: [validateMessage] }
});
app.use(express.notFound());
app.use(express.errorHandler({ logger: false }));

app.listen(port, '127.0.0.1').then(() => console.log(`listening port=${port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
