// The Feathers 5 peer for bench/realtime.sh: the same `messages` service as
// bench/feathers-server.js (memory adapter, {default: 10, max: 50} pagination, the coercion and
// createdAt hooks), served over Express REST and @feathersjs/socketio, with every connection in
// an `everyone` channel that receives every event, as `plume serve` does with
// `realtime: { publish: everyone }`.
//
//   node bench/realtime/feathers-socket-server.js [port]     (default 3112)
'use strict';

const { feathers } = require('@feathersjs/feathers');
const express = require('@feathersjs/express');
const socketio = require('@feathersjs/socketio');
const { MemoryService } = require('@feathersjs/memory');
const { BadRequest } = require('@feathersjs/errors');

const port = Number(process.argv[2] || process.env.BENCH_PORT || 3112);

function coerceUserId(context) {
  const query = context.params.query || {};
  if (typeof query.userId === 'string') {
    if (!/^-?\d+$/.test(query.userId)) throw new BadRequest(`userId must be an integer, got '${query.userId}'`);
    query.userId = Number(query.userId);
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
// Socket.io's defaults otherwise (ping 25 s / timeout 20 s), as a generated Feathers app has them.
app.configure(socketio({ cors: { origin: true } }));
app.use('messages', new MemoryService({ paginate: { default: 10, max: 50 }, multi: ['create'] }));
app.service('messages').hooks({
  before: { find: [coerceUserId], create: [validateMessage] }
});
app.on('connection', (connection) => app.channel('everyone').join(connection));
app.publish(() => app.channel('everyone'));
app.use(express.notFound());
app.use(express.errorHandler({ logger: false }));

app.listen(port, '127.0.0.1').then(() => console.log(`listening port=${port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
