// tests/e2e/lib/chromium.mjs: headless Debian Chromium driven by playwright-core,
// with a fake camera and microphone, plus a tiny static HTTP server on
// 127.0.0.1 so that test pages run in a secure context (getUserMedia needs
// one; about:blank is not).
//
// The flags are the ones ../shared/TESTING.md documents for these machines:
// --allow-loopback-in-peer-connection (else 127.0.0.1 is never gathered) and
// WebRtcHideLocalIpsWithMdns disabled (else host candidates are .local names).

import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, extname } from 'node:path';

// require() honours NODE_PATH (meson sets it); a bare ESM import would not.
const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM || '/usr/lib/chromium/chromium';

export const CHROMIUM_FLAGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
	'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
	'--allow-loopback-in-peer-connection',
	'--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Why Chromium tests cannot run here (a string), or null when they can. */
export function chromiumMissing() {
	try {
		require.resolve('playwright-core');
	} catch {
		return 'npm package playwright-core is not installed (npm ci in the source root)';
	}
	if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
	return null;
}

/**
 * Launches Chromium with a fresh profile directory.
 * Returns { ctx, page, version, close() }; close() is idempotent and also
 * removes the profile.
 */
export async function launchChromium({ extraArgs = [], log = () => {} } = {}) {
	const { chromium } = require('playwright-core');
	const profile = mkdtempSync(join(tmpdir(), 'parley-e2e-chr-'));
	let ctx;
	try {
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: [...CHROMIUM_FLAGS, ...extraArgs],
			timeout: 60000,
		});
	} catch (e) {
		rmSync(profile, { recursive: true, force: true });
		throw e;
	}
	const page = ctx.pages()[0] || await ctx.newPage();
	page.on('console', (m) => log(`[page ${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => log(`[page error] ${e.message}`));
	let closed = false;
	return {
		ctx,
		page,
		version: ctx.browser()?.version?.() ?? '',
		async close() {
			if (closed) return;
			closed = true;
			try { await ctx.close(); } catch { /* already gone */ }
			rmSync(profile, { recursive: true, force: true });
		},
	};
}

const MIME = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
};

/**
 * Serves the files of `dir` on http://127.0.0.1:<random>/ (GET only, no
 * listing, no path escapes). Returns { url, close() }.
 */
export async function serveDir(dir) {
	const srv = createServer((req, res) => {
		const p = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
		const file = join(dir, p || 'index.html');
		if (req.method !== 'GET' || p.startsWith('..') || !file.startsWith(dir) || !existsSync(file)) {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('not found');
			return;
		}
		res.writeHead(200, { 'content-type': MIME[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
		res.end(readFileSync(file));
	});
	await new Promise((resolve, reject) => {
		srv.once('error', reject);
		srv.listen(0, '127.0.0.1', resolve);
	});
	return {
		url: `http://127.0.0.1:${srv.address().port}/`,
		close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
	};
}
