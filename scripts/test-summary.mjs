// scripts/test-summary.mjs: reads meson-logs/testlog.json of each build
// directory given and prints `tests: N passed, N failed[, N skipped]` as the
// last line; exits 1 when anything failed (or a build did not build).
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
const buildFailed = args.pop() === '1';
let passed = 0, failed = buildFailed ? 1 : 0, skipped = 0;
for (const dir of args) {
  const f = `${dir}/meson-logs/testlog.json`;
  if (!existsSync(f)) { failed++; console.log(`${dir}: no test log`); continue; }
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    if (t.result === 'OK' || t.result === 'EXPECTEDFAIL') passed++;
    else if (t.result === 'SKIP') skipped++;
    else { failed++; console.log(`FAILED: ${dir} ${t.name} (${t.result})`); }
  }
}
if (buildFailed) console.log('a build failed (counted as one failure)');
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
