import { launchChromium } from '../e2e/lib/chromium.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { startServer } from './lib/parleyd.mjs';
import { waitFor, sleep } from './lib/util.mjs';
const NS = await reexecInNetns();
const srv = await startServer();
const br = await launchChromium({ log: (s) => {} });
const pages = [br.page, await br.ctx.newPage()];
const room = 'r' + Date.now();
for (const [i, p] of pages.entries()) {
  await p.goto(`${srv.url}?room=${room}&name=P${i}&video=low`);
  await p.getByRole('button', { name: 'Join' }).click();
}
const st = (p) => p.evaluate(() => ({ s: window.__parleyStats, pcs: window.__parley.client.connectionStates(), ice: window.__parley.client._pc.sub?.pc.iceConnectionState }));
await sleep(8000);
console.log(JSON.stringify(await st(pages[0])));
await pages[1].getByRole('button', { name: 'Mute microphone' }).click();
await sleep(8000);
console.log(JSON.stringify(await st(pages[0])));
console.log(await pages[0].evaluate(() => window.__parley.client.lastSubOffer));
console.log(await pages[0].evaluate(() => window.__parley.client._pc.sub.pc.localDescription.sdp));
await br.close();
await srv.destroy();
