// Renders bench/realtime.sh's results (one JSON object a line: target, scenario, kind, result)
// as a markdown table with the ratio against Feathers, then the targets.
//
//   node bench/realtime/report.js results.jsonl
'use strict';

const fs = require('node:fs');

const rows = fs
  .readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
const feathers = (scenario) => rows.find((r) => r.target === 'feathers' && r.scenario === scenario);
const fixed = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const out = [];
out.push('| target | scenario | req/s | p50 ms | p99 ms | vs Feathers | errors / dropped |');
out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const f = feathers(r.scenario);
  const x = r.result;
  if (r.kind === 'get') {
    const ratio = f ? `${(x.rps / f.result.rps).toFixed(2)}x req/s` : '-';
    out.push(`| ${r.target} | ${r.scenario} | ${x.rps.toFixed(0)} | ${fixed(x.p50, 2)} | ${fixed(x.p99, 2)} | ${ratio} | ${x.errors + x.lost} |`);
  } else {
    // Fan-out: latency until the last client has the event; the ratio is how many times faster.
    const ratio = f ? `${(f.result.p99 / x.p99).toFixed(2)}x faster (p99)` : '-';
    out.push(`| ${r.target} | ${r.scenario} | - | ${fixed(x.p50)} | ${fixed(x.p99)} | ${ratio} | ${x.dropped} |`);
  }
}

const plume = (scenario) => rows.find((r) => r.target === 'plume' && r.scenario === scenario);
const gets = rows.filter((r) => r.kind === 'get' && r.target === 'plume');
const fan = rows.filter((r) => r.kind === 'fanout' && r.target === 'plume').sort((a, b) => b.result.clients - a.result.clients)[0];
out.push('');
out.push('| target | measured | status |');
out.push('| --- | --- | --- |');
for (const get of gets.filter((r) => feathers(r.scenario))) {
  const ratio = get.result.rps / feathers(get.scenario).result.rps;
  out.push(`| socket \`get\` ≥ 10x Feathers (${get.result.client}) | ${ratio.toFixed(2)}x | ${ratio >= 10 ? 'met' : 'not met'} |`);
}
if (fan) {
  const p99 = plume(fan.scenario).result.p99;
  out.push(`| fan-out to ${fan.result.clients} clients p99 ≤ 100 ms | ${p99.toFixed(1)} ms | ${p99 <= 100 ? 'met' : 'not met'} |`);
}
console.log(out.join('\n'));
