#!/usr/bin/env node
// Top self-time functions of a V8 CPU profile (node --cpu-prof), grouped by file:function.
//   node bench/cpuprofile-top.mjs PROFILE.cpuprofile [more...] [--top 15] [--markdown] [--total]
// Self time of a function = time of the samples whose top frame is that function. Frames are grouped by
// (file, function name, line); compiled files under dist/ are shown as their TypeScript sources
// (dist/src/x/y.js -> src/x/y.ts), node internals as node:..., and V8 pseudo-frames ((garbage collector),
// (program), (idle)) as such. --total also prints inclusive ("total") time per function.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const TOP = Number(opt('top', 15));
const MD = args.includes('--markdown');
const TOTAL = args.includes('--total');
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--top'));
if (!files.length) { console.error('usage: cpuprofile-top.mjs PROFILE.cpuprofile [...] [--top 15] [--markdown] [--total]'); process.exit(2); }

// ---- minimal source-map support: dist/**/*.js(.map) -> the .ts line a frame starts on ----
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function decodeMappings(str) { // -> per generated line: [[genCol, srcLine], ...] (srcLine 0-based)
  const lines = []; let srcIdx = 0, srcLine = 0, srcCol = 0, name = 0;
  for (const l of str.split(';')) {
    const segs = []; let genCol = 0;
    for (const seg of l.split(',')) {
      if (!seg) continue;
      const v = []; let val = 0, shift = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch); val += (d & 31) << shift;
        if (d & 32) shift += 5; else { v.push(val & 1 ? -(val >>> 1) : val >>> 1); val = 0; shift = 0; }
      }
      genCol += v[0];
      if (v.length >= 4) { srcIdx += v[1]; srcLine += v[2]; srcCol += v[3]; if (v.length >= 5) name += v[4]; segs.push([genCol, srcLine]); }
    }
    lines.push(segs);
  }
  return lines;
}
const maps = new Map();
function tsLine(file, line0, col0) { // file path of a .js, 0-based line/col -> 1-based .ts line or undefined
  if (!maps.has(file)) {
    let m; try { m = decodeMappings(JSON.parse(fs.readFileSync(file + '.map', 'utf8')).mappings); } catch { m = null; }
    maps.set(file, m);
  }
  const m = maps.get(file); const segs = m && m[line0];
  if (!segs || !segs.length) return undefined;
  let best = segs[0];
  for (const sg of segs) { if (sg[0] <= col0) best = sg; else break; }
  return best[1] + 1;
}

function shortFile(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith('node:')) return u;
  const m = u.match(/\/dist\/((?:src|test|bench)\/.*)\.js$/);
  if (m) return `${m[1]}.ts`;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 1);
  return path.basename(u);
}

const self = new Map();   // key -> µs
const total = new Map();
let allUs = 0;
for (const f of files) {
  const p = JSON.parse(fs.readFileSync(f, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const keyOf = (n) => {
    const cf = n.callFrame;
    const file = shortFile(cf.url);
    const fn = cf.functionName || (file ? '(anonymous)' : '');
    let line = cf.lineNumber + 1;
    if (file.endsWith('.ts') && cf.url.includes('/dist/')) line = tsLine(cf.url.replace(/^file:\/\//, ''), cf.lineNumber, cf.columnNumber) ?? line;
    return file ? `${file}:${line} ${fn}` : fn;
  };
  const nodeUs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;   // time until the next sample is attributed to this sample
    nodeUs.set(p.samples[i], (nodeUs.get(p.samples[i]) || 0) + Math.max(0, dt));
  }
  for (const [id, us] of nodeUs) {
    const n = byId.get(id);
    const k = keyOf(n);
    allUs += us;
    self.set(k, (self.get(k) || 0) + us);
    if (TOTAL) {                         // inclusive: credit each distinct ancestor key once
      const seen = new Set();
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const kk = keyOf(byId.get(cur));
        if (!seen.has(kk)) { seen.add(kk); total.set(kk, (total.get(kk) || 0) + us); }
      }
    }
  }
}
const idleUs = self.get('(idle)') || 0;
const busyUs = allUs - idleUs;
const rows = [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, TOP);
const pct = (us, of) => ((100 * us) / (of || 1)).toFixed(1);
const head = `profile: ${files.map((f) => path.basename(f)).join(', ')}; ${(allUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s not idle (${pct(busyUs, allUs)} %)`;
if (MD) {
  console.log(head, '\n');
  console.log(`| # | self ms | % of busy | function (file:line name)${TOTAL ? ' | total ms' : ''} |`);
  console.log(`|---|---|---|---|${TOTAL ? '---|' : ''}`);
  rows.forEach(([k, us], i) => console.log(`| ${i + 1} | ${(us / 1000).toFixed(0)} | ${pct(us, busyUs)} | \`${k}\`${TOTAL ? ` | ${((total.get(k) || 0) / 1000).toFixed(0)}` : ''} |`));
} else {
  console.log(head);
  rows.forEach(([k, us], i) => console.log(`${String(i + 1).padStart(3)} ${(us / 1000).toFixed(0).padStart(8)} ms ${pct(us, busyUs).padStart(5)} %  ${k}${TOTAL ? `   (total ${((total.get(k) || 0) / 1000).toFixed(0)} ms)` : ''}`));
}
