import { launchChromium } from '../e2e/lib/chromium.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { startServer } from './lib/parleyd.mjs';
const NS = await reexecInNetns();
const srv = await startServer();
const br = await launchChromium({ log: (s) => console.error('A', s) });
const pages = [br.page, await br.ctx.newPage()];
pages[1].on('console', (m) => console.error('B', m.text()));
pages[1].on('pageerror', (e) => console.error('B err', e.message));
const room = 'r' + Date.now();
for (const [i, p] of pages.entries()) {
  await p.goto(`${srv.url}?room=${room}&name=P${i}&video=low`);
  await p.getByLabel('Room').fill(room);
  await p.getByLabel('Name').fill('P' + i);
  await p.getByRole('button', { name: 'Join' }).click();
}
const t0 = Date.now();
for (let k = 0; k < 20; k++) {
  await new Promise((r) => setTimeout(r, 1500));
  for (const [i, p] of pages.entries()) {
    const s = await p.evaluate(() => window.__parleyStats);
    console.log(i, Date.now() - t0, JSON.stringify(s && { state: s.state, pc: s.pc, parts: s.participants, local: s.local }));
  }
}
await pages[0].screenshot({ path: '/tmp/webx/a.png' });
await br.close();
await srv.destroy();
