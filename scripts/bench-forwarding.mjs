#!/usr/bin/env node
// scripts/bench-forwarding.mjs: the README's forwarding table.  Starts a
// parleyd (release build recommended), runs `parley-bench load` for each
// N and SRTP profile several times, and prints the medians as a Markdown
// table and JSON.  Figures are server CPU-seconds per million forwarded
// packets (= µs per packet), read from /proc by parley-bench.
//
//   node scripts/bench-forwarding.mjs --build build-rel [--ns 2,4,8,12,16]
//        [--profiles cm,gcm] [--runs 3] [--duration 15] [--engine builtin|libsrtp]
//        [--json FILE]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const build = args.build || 'build-rel';
const ns = (args.ns || '2,4,8,12,16').split(',').map(Number);
const profiles = (args.profiles || 'cm,gcm').split(',');
const runs = Number(args.runs || 3);
const duration = Number(args.duration || 15);
const engine = args.engine || 'builtin';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function freePort() {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

// A fresh parleyd per run, so that its RSS before the clients join is
// the baseline of "RSS per participant".
async function startServer(dir) {
  const port = await freePort();
  const srv = spawn(join(build, 'signaling/parleyd'), ['--listen', `127.0.0.1:${port}`, '--data-dir', dir,
    '--log-level', 'warn', '--set', `media.srtp_engine=${engine}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 800));
  return { srv, port };
}

const dir = mkdtempSync(join(tmpdir(), 'pl-benchfwd-'));
const results = [];
try {
  for (const n of ns) {
    for (const prof of profiles) {
      const rs = [];
      for (let i = 0; i < runs; i++) {
        const jf = join(dir, `r-${n}-${prof}-${i}.json`);
        const { srv, port } = await startServer(dir);
        try {
          execFileSync(join(build, 'client/parley-bench'), ['load', '--server', `ws://127.0.0.1:${port}/ws`,
            '--participants', String(n), '--duration', String(duration), '--server-pid', String(srv.pid),
            '--srtp', prof, '--quiet', '--json', jf, '--room-prefix', `fwd${n}${prof}${i}`], { stdio: 'ignore' });
        } finally {
          srv.kill('SIGTERM');
          await new Promise((r) => srv.once('exit', r));
        }
        rs.push(JSON.parse(readFileSync(jf, 'utf8')));
      }
      const row = {
        n, srtp: prof, runs,
        forwarded_pps: median(rs.map((r) => r.forwarded_pps)),
        us_per_packet: median(rs.map((r) => r.server.us_per_packet)),
        server_cpu_pct: median(rs.map((r) => r.server.cpu_pct)),
        rss_per_participant_mib: median(rs.map((r) => r.server.rss_per_participant_mib)),
        loss_pct: Math.max(...rs.map((r) => r.loss_pct)),
        client_cpu_pct: median(rs.map((r) => r.client_cpu_pct)),
        load_avg: (await import('node:os')).loadavg()[0],
      };
      results.push(row);
      process.stderr.write(`N=${n} ${prof}: ${row.us_per_packet.toFixed(2)} us/pkt, ${row.forwarded_pps.toFixed(0)} pkt/s, loss ${row.loss_pct}%, load ${row.load_avg.toFixed(1)}\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const by = (n, p) => results.find((r) => r.n === n && r.srtp === p);
console.log(`engine ${engine}, ${runs} runs of ${duration} s each, medians\n`);
console.log('| N | forwarded packets/s | server µs/packet AES-CM / AES-GCM | server CPU % CM / GCM | RSS per participant | worst loss % | generator CPU % CM / GCM |');
console.log('|---|---|---|---|---|---|---|');
for (const n of ns) {
  const c = by(n, 'cm') || {}, g = by(n, 'gcm') || {};
  const f = (x, d = 1) => (x === undefined ? '–' : x.toFixed(d));
  console.log(`| ${n} | ${Math.round(c.forwarded_pps ?? g.forwarded_pps).toLocaleString('en')} | ${f(c.us_per_packet)} / ${f(g.us_per_packet)} | ${f(c.server_cpu_pct)} / ${f(g.server_cpu_pct)} | ${f(c.rss_per_participant_mib ?? g.rss_per_participant_mib)} MiB | ${f(Math.max(c.loss_pct ?? 0, g.loss_pct ?? 0), 3)} | ${f(c.client_cpu_pct)} / ${f(g.client_cpu_pct)} |`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ engine, runs, duration, results }, null, 2));
