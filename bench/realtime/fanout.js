// Event fan-out: C websocket clients spread over P Node processes, all connected to the main
// namespace and receiving `messages created` (the server publishes every event to every
// connection). The parent creates E messages over REST, one at a time, each stamped with its send
// time (wall clock: performance.timeOrigin + performance.now(), the same clock in every process
// on one machine); every client process records when each of its clients got the event. Per
// event: the time until the first and until the LAST client had it. The next create waits until
// every client got the previous event (or 10 s passed), then a pause.
//
//   node bench/realtime/fanout.js --url http://127.0.0.1:3111 [--clients 1000] [--processes 4]
//        [--events 20] [--gap 300] [--warmup-events 2]
// The warm-up events go first and are not counted (the first deliveries run cold JIT code in
// every process).
//
// Prints one line: RESULT {"p50":…,"p99":…,"max":…,"firstP50":…,"dropped":…,"events":…}
// (ms; p50/p99/max over events of the last-client time; dropped = deliveries that never came).
// The clients are raw Socket.IO protocol clients (raw-socket.js), which parse only the event's
// text field, so that 10,000 of them on a small machine measure the server more than themselves.
'use strict';

const { fork } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '4' },
    events: { type: 'string', default: '20' },
    gap: { type: 'string', default: '300' },
    'warmup-events': { type: 'string', default: '2' },
    child: { type: 'string' }
  }
});

const wallNow = () => performance.timeOrigin + performance.now();

// A client process ends with its parent (also when the parent is killed).
if (args.child !== undefined) process.on('disconnect', () => process.exit(0));
if (args.child !== undefined) child();
else parent().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});

async function parent() {
  if (!args.url) throw new Error('--url is required');
  const clients = Number(args.clients);
  const processes = Math.min(Number(args.processes), clients);
  const children = [];
  const shares = [];
  for (let i = 0; i < processes; i++) {
    const share = Math.floor(clients / processes) + (i < clients % processes ? 1 : 0);
    shares.push(share);
    children.push(fork(__filename, ['--url', args.url, '--clients', String(share), '--child', String(i)]));
  }
  process.on('exit', () => children.forEach((c) => c.kill()));
  const waiters = new Map(); // "type:seq" -> [resolve per child]
  const failures = [];
  children.forEach((c, index) => {
    c.on('message', (m) => {
      if (m.type === 'error') failures.push(m.message);
      const key = `${m.type}:${m.seq ?? ''}`;
      const list = waiters.get(key);
      if (list && list[index]) list[index](m);
    });
    c.once('exit', (code) => failures.push(`client process ${index} exited with ${code}`));
  });
  const collect = (type, seq) => {
    const key = `${type}:${seq ?? ''}`;
    const list = [];
    const all = Promise.all(children.map((_, i) => new Promise((resolve) => (list[i] = resolve))));
    waiters.set(key, list);
    return all.finally(() => waiters.delete(key));
  };

  const connectStart = Date.now();
  const ready = collect('ready');
  const connected = await Promise.race([ready, sleep(120000).then(() => null)]);
  if (!connected || failures.length) throw new Error(`connecting ${clients} clients failed: ${failures.slice(0, 3).join('; ') || 'timed out'}`);
  const connectSeconds = (Date.now() - connectStart) / 1000;
  await sleep(1000); // let the connect burst settle

  const lastTimes = [];
  const firstTimes = [];
  let dropped = 0;
  const warmup = Number(args['warmup-events']);
  for (let seq = -warmup; seq < Number(args.events); seq++) {
    const done = collect('done', seq);
    const sentAt = wallNow();
    const reply = await fetch(`${args.url}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: `fanout ${seq}`, userId: 1 }),
      signal: AbortSignal.timeout(10000)
    });
    if (reply.status !== 201) throw new Error(`POST /messages answered ${reply.status}: ${await reply.text()}`);
    let parts = await Promise.race([done, sleep(10000).then(() => null)]);
    if (!parts) {
      const report = collect('report', seq);
      children.forEach((c) => c.send({ type: 'report', seq }));
      parts = await report;
    }
    if (seq < 0) {
      await sleep(Number(args.gap));
      continue;
    }
    const got = parts.reduce((n, p) => n + p.count, 0);
    dropped += clients - got;
    const present = parts.filter((p) => p.count > 0);
    if (present.length) {
      lastTimes.push(Math.max(...present.map((p) => p.last)) - sentAt);
      firstTimes.push(Math.min(...present.map((p) => p.first)) - sentAt);
    }
    await sleep(Number(args.gap));
  }
  const sorted = (a) => Float64Array.from(a).sort();
  const pct = (a, q) => (a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))] : NaN);
  const last = sorted(lastTimes);
  const first = sorted(firstTimes);
  const summary = {
    p50: pct(last, 0.5),
    p99: pct(last, 0.99),
    max: last[last.length - 1],
    firstP50: pct(first, 0.5),
    dropped,
    events: Number(args.events),
    clients,
    processes,
    connectSeconds,
    lastTimes: lastTimes.map((t) => Math.round(t * 10) / 10)
  };
  console.log(`RESULT ${JSON.stringify(summary)}`);
  children.forEach((c) => c.kill());
  process.exit(0);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function child() {
  const { connect } = require('./raw-socket');
  const count = Number(args.clients);
  const events = new Map(); // seq -> {count, first, last}
  const marker = '42["messages created",';
  const onPacket = (packet) => {
    const now = wallNow();
    if (!packet.startsWith(marker)) return;
    const at = packet.indexOf('"text":"fanout ');
    if (at < 0) return;
    const seq = parseInt(packet.slice(at + 15), 10); // may be negative: warm-up events
    let e = events.get(seq);
    if (!e) events.set(seq, (e = { count: 0, first: now, last: now }));
    e.count++;
    e.last = now;
    if (e.count === count) process.send({ type: 'done', seq, count: e.count, first: e.first, last: e.last });
  };
  process.on('message', (m) => {
    if (m.type !== 'report') return;
    const e = events.get(m.seq) || { count: 0, first: 0, last: 0 };
    process.send({ type: 'report', seq: m.seq, count: e.count, first: e.first, last: e.last });
  });
  // At most 64 handshakes in flight per process: a burst of thousands overruns the listen backlog.
  const sockets = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      sockets.push(await connect(args.url, onPacket));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(64, count) }, worker));
    process.send({ type: 'ready' });
  } catch (error) {
    process.send({ type: 'error', message: error.message });
  }
}
