// scripts/test-summary.mjs: reads meson-logs/testlog.json of each build
// directory given and prints `tests: N passed, N failed[, N skipped]` as the
// last line; exits 1 when anything failed (or a build did not build).
// Each failure is listed just above it with the few lines of its output
// that say why (assertion messages, sanitizer reports, error lines), so a
// CI log that keeps only its tail still shows the reason.
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
const buildFailed = args.pop() === '1';
const failures = [];
// what names a failure, first (TAP 'not ok' and its error, sanitizers,
// cmocka, Python), then, only if none of that is there, any error-ish line
const WHY = [/^not ok|^error:|^(code|expected|actual):|SUMMARY: |runtime error|^\[  FAILED  \]|Traceback|Error:|^FAIL/,
  /\bfail|error|assert|timed? ?out/i];
/** The lines of a failed test's output that explain it: at most 10, short. */
function why(t) {
  const lines = `${t.stdout || ''}\n${t.stderr || ''}`.split('\n').map((l) => l.trim());
  for (const re of WHY) {
    const out = [];
    for (let i = 0; i < lines.length && out.length < 10; i++) {
      const l = lines[i];
      if (!l || !re.test(l) || /^# (pass|fail|tests|suites)/.test(l)) continue;
      // a TAP 'error: |-' block holds the message on the next line
      const text = /^error: ?[|>]-?$/.test(l) && lines[i + 1] ? `error: ${lines[i + 1]}` : l;
      if (!out.includes(text)) out.push(text);
    }
    if (out.length) return out.map((l) => `\n    ${l.length > 200 ? l.slice(0, 200) + '…' : l}`).join('');
  }
  return '';
}
let passed = 0, failed = buildFailed ? 1 : 0, skipped = 0;
for (const dir of args) {
  const f = `${dir}/meson-logs/testlog.json`;
  if (!existsSync(f)) { failed++; console.log(`${dir}: no test log`); continue; }
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    if (t.result === 'OK' || t.result === 'EXPECTEDFAIL') passed++;
    else if (t.result === 'SKIP') skipped++;
    else { failed++; failures.push(`FAILED: ${dir} ${t.name} (${t.result}, exit ${t.returncode}, ${Math.round(t.duration)} s)` + why(t)); }
  }
}
for (const f of failures) console.log(f);
if (buildFailed) console.log('a build failed (counted as one failure)');
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
