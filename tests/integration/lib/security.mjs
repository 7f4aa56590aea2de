// tests/integration/lib/security.mjs: helpers shared by the security tests
// (permissions.mjs, kick.mjs, limits.mjs).
import { waitFor } from './harness.mjs';

/** signaling counters from /healthz. */
export const health = async (srv) => (await (await srv.fetch('/healthz')).json()).signaling;

export const isTrack = (ev, pid) => (m) => m.type === 'track' && m.event === ev && m.participant === pid;
export const isLeft = (pid) => (m) => m.type === 'participant' && m.event === 'left' && m.participant.id === pid;

/**
 * Waits until /stats (a snapshot the media workers refresh each second)
 * shows no participant pid in room and no active stream from it: the
 * m-lines that carried its tracks to the others are inactive (kept for
 * reuse, as docs/protocol.md says).
 */
export async function mediaForgot(srv, room, pid, ms = 3000) {
	let last = '';
	await waitFor(async () => {
		const stats = await (await srv.fetch('/stats')).json();
		const r = stats.find((x) => x.room === room) ?? { participants: [] };
		last = JSON.stringify(r);
		return r.participants.every((p) => p.id !== pid &&
			(p.receiving ?? []).every((st) => st.from !== pid || st.active === false));
	}, ms, `participant ${pid} gone from /stats`).catch((e) => { throw new Error(`${e.message}: ${last.slice(0, 400)}`); });
}
