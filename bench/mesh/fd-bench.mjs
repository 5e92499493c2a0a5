// feathers-distributed 3 (on cote) in the two-node setup of its own measurements: `server` owns
// a MemoryService `items`, `client` consumes it and measures discovery, remote `get` sequential
// and with CONC in flight, then waits for the server to be killed and reports when the proxy
// went away. UDP discovery stays on loopback (broadcast 127.255.255.255). TUNED=1 uses the
// short cote intervals (hello 500 ms, check 1 s, node timeout 2 s) and publication delays.
// One JSON line per result on stdout, prefixed with "RESULT ".
import { feathers } from '@feathersjs/feathers'
import { MemoryService } from '@feathersjs/memory'
import distribution from '@kalisio/feathers-distributed'
import { performance } from 'node:perf_hooks'

const role = process.argv[2]
const N = Number(process.env.N || 2000)
const CONC = Number(process.env.CONC || 50)
const cote = { broadcast: '127.255.255.255', port: Number(process.env.UDP_PORT || 12399) }
const opts = { key: role, cote }
if (process.env.TUNED === '1') {
  Object.assign(cote, { helloInterval: 500, checkInterval: 1000, nodeTimeout: 2000, masterTimeout: 3000 })
  Object.assign(opts, { publicationDelay: 500, componentDelay: 100 })
}
const result = (what, values) => console.log('RESULT ' + JSON.stringify({ what, ...values }))
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))] }

const app = feathers()
app.configure(distribution(opts))
if (role === 'server') {
  const store = {}
  for (let i = 0; i < 100; i++) store[i] = { id: i, name: 'item ' + i, payload: 'x'.repeat(100) }
  app.use('items', new MemoryService({ store, startId: 2000, multi: true }))
  console.log('server up')
} else {
  const t0 = performance.now()
  let killedAt = 0
  process.stdin.on('data', (line) => { killedAt = Number(String(line).trim()) })
  // Any removal: the server offers only `items` (the descriptor's path is not always set here).
  app.on('service-removed', () => {
    result('detection', { ms: killedAt ? Date.now() - killedAt : null })
    process.exit(0)
  })
  app.on('service', async (d) => {
    if (d.path !== 'items') return
    result('discovery', { ms: performance.now() - t0 })
    const items = app.service('items')
    for (let i = 0; i < 200; i++) await items.get(i % 100)
    const lat = []
    const ts = performance.now()
    for (let i = 0; i < N; i++) { const s = performance.now(); await items.get(i % 100); lat.push(performance.now() - s) }
    const dt = performance.now() - ts
    result('sequential', { n: N, rate: N / dt * 1000, p50: pct(lat, 0.5), p99: pct(lat, 0.99) })
    let next = 0
    const total = N * 5
    const tc = performance.now()
    await Promise.all(Array.from({ length: CONC }, async () => { while (next < total) { next++; await items.get(next % 100) } }))
    result('concurrent', { n: total, concurrency: CONC, rate: total / (performance.now() - tc) * 1000 })
    console.log('READY_FOR_KILL')
  })
}
