// tests/e2e/lib/netns.mjs: run this test process inside a fresh network
// namespace that only has 127.0.0.1.
//
// Why: Chromium gathers host candidates on every interface. Even when a test
// signals only its 127.0.0.1 candidates, Chromium still sends ICE checks from
// its other host address (192.0.2.x here) to the server's 127.0.0.1
// candidate, and its pair ranking prefers that pair over loopback, so the
// media would flow from and to an address other than 127.0.0.1. Inside a
// namespace of its own with nothing but `lo`, parleyd, the page server and
// Chromium all see 127.0.0.1 only (../shared/TESTING.md allows addresses
// "inside network namespaces the test itself made").
//
// reexecInNetns() is called first thing by a test script. In the parent it
// creates the namespace, reruns the same script inside it with
// `ip netns exec`, deletes the namespace when the child ends and exits with
// the child's status (it never returns there). In the child, or when a
// namespace cannot be made, it returns { netns: name | null, why }.
// PARLEY_E2E_NETNS=0 disables it; =1 makes a failure to create it fatal;
// the default (auto) uses it when running as root and falls back otherwise.

import { spawn, spawnSync } from 'node:child_process';

const IN_NS = 'PARLEY_E2E_IN_NETNS';

function run(args) {
	const r = spawnSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
	if (r.error) throw r.error;
	if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || 'exit ' + r.status}`);
	return r.stdout;
}

export async function reexecInNetns() {
	if (process.env[IN_NS]) return { netns: process.env[IN_NS], why: 'inside' };
	const mode = process.env.PARLEY_E2E_NETNS ?? 'auto';
	if (mode === '0') return { netns: null, why: 'PARLEY_E2E_NETNS=0' };
	const fallback = (why) => {
		if (mode === '1') throw new Error(`PARLEY_E2E_NETNS=1 but no network namespace: ${why}`);
		console.log(`# no network namespace (${why}): running in the host namespace`);
		return { netns: null, why };
	};
	if (process.getuid && process.getuid() !== 0) return fallback('not root');

	const name = `parley-e2e-${process.pid}`;
	try {
		run(['netns', 'add', name]);
	} catch (e) {
		return fallback(e.message);
	}
	let code = 1;
	try {
		run(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
		// IPv6 off: 127.0.0.1 is then the only address in there (best effort)
		spawnSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w',
			'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.lo.disable_ipv6=1'], { stdio: 'ignore' });
		const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
			{ stdio: 'inherit', env: { ...process.env, [IN_NS]: name } });
		const forward = (sig) => () => { try { child.kill(sig); } catch { /* gone */ } };
		for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, forward(sig));
		code = await new Promise((resolve) => {
			child.on('error', (e) => { console.error(`ip netns exec: ${e.message}`); resolve(1); });
			child.on('exit', (c, s) => resolve(c ?? (s ? 128 + 15 : 1)));
		});
	} finally {
		try { run(['netns', 'del', name]); } catch (e) { console.error(`# ${e.message}`); }
	}
	process.exit(code);
}
