// tests/e2e/lib/util.mjs: small helpers for the e2e tests.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` (sync or async) every `every` ms until it returns a truthy
 * value, which is returned; rejects after `timeout` ms with `what`.
 */
export async function waitFor(cond, timeout, { every = 100, what = 'condition' } = {}) {
	const end = Date.now() + timeout;
	for (;;) {
		const v = await cond();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timeout after ${timeout} ms waiting for ${what}`);
		await sleep(every);
	}
}

/** Rows (arrays) as `# `-prefixed, column-aligned text lines (TAP comments). */
export function fmtTable(rows) {
	const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
	const w = [];
	for (const r of cells) r.forEach((c, i) => { w[i] = Math.max(w[i] || 0, c.length); });
	return cells.map((r) => '# ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}
