// Turns bench/mesh.sh's results (one JSON line per measurement) into a markdown table with
// Plume's ratios against each feathers-distributed run.
const fs = require('node:fs')

const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
const value = (target, what, field) => {
  const row = rows.find((r) => r.target === target && r.result.what === what)
  return row ? row.result[field] : undefined
}
const fmt = (v, digits = 2) => (v === undefined || v === null ? 'n/a' : Number(v).toFixed(digits))
const rate = (v) => (v === undefined ? 'n/a' : `${Math.round(v).toLocaleString('en-US')}/s`)
const targets = [...new Set(rows.map((r) => r.target))].filter((t) => t !== 'plume')

const lines = []
const header = ['measure', 'plume (local call)', 'plume (mesh)', ...targets.map((t) => t.replace('fd-', 'feathers-distributed, ') + ' intervals')]
lines.push(`| ${header.join(' | ')} |`)
lines.push(`|${header.map(() => ' --- ').join('|')}|`)
const row = (name, local, remote, peer, ratio) =>
  lines.push(`| ${name} | ${local} | ${remote} | ${targets.map((t) => `${peer(t)}${ratio ? ` (${ratio(t)})` : ''}`).join(' | ')} |`)

const pSeq = (t, f) => value(t, t === 'plume' ? 'remote sequential' : 'sequential', f)
const pCon = (t) => value(t, t === 'plume' ? 'remote concurrent' : 'concurrent', 'rate')
row('discovery (ms)', '-', fmt(value('plume', 'discovery', 'ms'), 0), (t) => fmt(value(t, 'discovery', 'ms'), 0))
row('sequential get p50 (ms)', fmt(value('plume', 'local sequential', 'p50'), 3), fmt(pSeq('plume', 'p50'), 3),
  (t) => fmt(pSeq(t, 'p50'), 3), (t) => `plume ${fmt(pSeq(t, 'p50') / pSeq('plume', 'p50'), 1)}x faster`)
row('sequential get p99 (ms)', fmt(value('plume', 'local sequential', 'p99'), 3), fmt(pSeq('plume', 'p99'), 3),
  (t) => fmt(pSeq(t, 'p99'), 3))
row('sequential gets/s', rate(value('plume', 'local sequential', 'rate')), rate(pSeq('plume', 'rate')), (t) => rate(pSeq(t, 'rate')))
row(`gets/s, ${value('plume', 'remote concurrent', 'concurrency')} in flight`, rate(value('plume', 'local concurrent', 'rate')),
  rate(pCon('plume')), (t) => rate(pCon(t)), (t) => `plume ${fmt(pCon('plume') / pCon(t), 1)}x`)
row('failure detection after SIGKILL (ms)', '-', fmt(value('plume', 'detection', 'ms'), 0), (t) => fmt(value(t, 'detection', 'ms'), 0))
console.log(lines.join('\n'))
