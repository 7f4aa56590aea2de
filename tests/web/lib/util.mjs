// tests/web/lib/util.mjs: waiting on conditions (never on fixed sleeps) and
// small helpers shared by the web demo tests.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` (sync or async) every `every` ms until it returns a truthy
 * value, which is returned; throws after `timeout` ms, with `what` and the
 * last value `describe()` gives (if any) in the message.
 */
export async function waitFor(cond, timeout, { every = 250, what = 'condition', describe = null } = {}) {
	const end = Date.now() + timeout;
	let lastErr = null;
	for (;;) {
		try {
			const v = await cond();
			if (v) return v;
			lastErr = null;
		} catch (e) {
			lastErr = e;
		}
		if (Date.now() > end) {
			let extra = '';
			if (describe) {
				try { extra = `; last state: ${JSON.stringify(await describe()).slice(0, 3000)}`; } catch { /* ignore */ }
			}
			throw new Error(`timeout after ${timeout} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}${extra}`);
		}
		await sleep(every);
	}
}
