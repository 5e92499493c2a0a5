// Socket `get` load: N persistent websocket-only socket.io-client connections spread over P Node
// processes, each connection sending `emit('get', 'messages', id, ack)` in a closed loop (the next
// call leaves when the ack of the previous one arrives). After a warm-up, every ack that arrives
// inside the measured window counts; its latency is the time from emit to ack on the client.
//
//   node bench/realtime/get-load.js --url http://127.0.0.1:3111 [--connections 64]
//        [--processes 2] [--duration 10] [--warmup 2] [--id 1] [--client socket.io-client|raw]
//
// --client raw sends the same Socket.IO packets (`421["get","messages",1]`, answered by
// `431[null,{…}]`) from the minimal client in raw-socket.js: socket.io-client's own cost per call
// is several times the server's, so with both on one small machine it caps what can be measured.
//
// Prints one line: RESULT {"rps":…,"p50":…,"p99":…,"requests":…,"errors":…,"lost":…}
// (latencies in ms). Errors are acks carrying an error; lost are calls without an ack 2 s after
// the window closed.
'use strict';

const { fork } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '64' },
    processes: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    id: { type: 'string', default: '1' },
    client: { type: 'string', default: 'socket.io-client' },
    child: { type: 'string' }
  }
});

// A client process ends with its parent (also when the parent is killed).
if (args.child !== undefined) process.on('disconnect', () => process.exit(0));
if (args.child !== undefined) child(Number(args.child));
else parent().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});

async function parent() {
  if (!args.url) throw new Error('--url is required');
  const connections = Number(args.connections);
  const processes = Math.min(Number(args.processes), connections);
  const children = [];
  for (let i = 0; i < processes; i++) {
    const share = Math.floor(connections / processes) + (i < connections % processes ? 1 : 0);
    const argv = ['--url', args.url, '--connections', String(share), '--id', args.id, '--client', args.client, '--child', String(i)];
    children.push(fork(__filename, argv, { serialization: 'advanced' }));
  }
  process.on('exit', () => children.forEach((c) => c.kill()));
  const next = (c, type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === type) {
          c.off('message', onMessage);
          resolve(m);
        }
      };
      c.on('message', onMessage);
      c.once('exit', (code) => reject(new Error(`load process exited with ${code}`)));
    });
  await withTimeout(Promise.all(children.map((c) => next(c, 'ready'))), 30000, 'connecting');
  const results = children.map((c) => next(c, 'result'));
  for (const c of children) c.send({ type: 'start', warmupMs: Number(args.warmup) * 1000, durationMs: Number(args.duration) * 1000 });
  const parts = await withTimeout(Promise.all(results), (Number(args.warmup) + Number(args.duration) + 15) * 1000, 'measuring');
  const total = parts.reduce((n, p) => n + p.latencies.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p.latencies, at);
    at += p.latencies.length;
  }
  all.sort();
  const pct = (q) => (total ? all[Math.min(total - 1, Math.floor(q * total))] : NaN);
  const summary = {
    rps: total / Number(args.duration),
    p50: pct(0.5),
    p99: pct(0.99),
    requests: total,
    errors: parts.reduce((n, p) => n + p.errors, 0),
    lost: parts.reduce((n, p) => n + p.lost, 0),
    connections,
    processes,
    client: args.client
  };
  console.log(`RESULT ${JSON.stringify(summary)}`);
  children.forEach((c) => c.kill());
  process.exit(0);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms)))
  ]);
}

async function connectRaw() {
  const { connect } = require('./raw-socket');
  const packet = JSON.stringify(['get', 'messages', Number(args.id)]);
  const make = async () => {
    let ackId = 0;
    let pending = null;
    const ws = await connect(args.url, (text) => {
      // 43<id>[null,{…}] is a result, 43<id>[{…}] an error.
      if (!text.startsWith('43') || !pending) return;
      const callback = pending;
      pending = null;
      callback(text.startsWith('null', text.indexOf('[') + 1) ? null : new Error(text));
    });
    return {
      emit(_method, _path, _id, callback) {
        pending = callback;
        ws.send(`42${ackId++}${packet}`);
      },
      close: () => ws.close()
    };
  };
  return Promise.all(Array.from({ length: Number(args.connections) }, make));
}

async function child() {
  let sockets;
  if (args.client === 'raw') {
    try {
      sockets = await connectRaw();
    } catch (error) {
      process.send({ type: 'error', message: `connect: ${error.message}` });
      return;
    }
    process.send({ type: 'ready' });
  } else {
    sockets = connectSocketIoClient();
  }
  run(sockets);
}

function connectSocketIoClient() {
  const io = require('socket.io-client');
  const sockets = [];
  let connected = 0;
  for (let i = 0; i < Number(args.connections); i++) {
    // forceNew: one Engine.IO connection per client (the Manager would otherwise multiplex).
    const socket = io(args.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    socket.once('connect', () => {
      if (++connected === Number(args.connections)) process.send({ type: 'ready' });
    });
    socket.on('connect_error', (error) => process.send({ type: 'error', message: `connect: ${error.message}` }));
    sockets.push(socket);
  }
  return sockets;
}

function run(sockets) {
  const id = Number(args.id);
  process.on('message', (m) => {
    if (m.type !== 'start') return;
    const begin = performance.now() + m.warmupMs;
    const end = begin + m.durationMs;
    const latencies = [];
    let errors = 0;
    let outstanding = 0;
    let stopped = false;
    const fire = (socket) => {
      const sent = performance.now();
      outstanding++;
      socket.emit('get', 'messages', id, (error) => {
        const now = performance.now();
        outstanding--;
        if (now >= begin && now < end) {
          latencies.push(now - sent);
          if (error) errors++;
        }
        if (now < end) fire(socket);
        else if (stopped && outstanding === 0) finish();
      });
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      process.send({ type: 'result', latencies: Float64Array.from(latencies), errors, lost: outstanding });
      sockets.forEach((s) => s.close());
    };
    sockets.forEach(fire);
    setTimeout(() => {
      stopped = true;
      if (outstanding === 0) finish();
      setTimeout(finish, 2000);
    }, end - performance.now() + 1);
  });
}
