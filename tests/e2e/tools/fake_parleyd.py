#!/usr/bin/python3
"""fake_parleyd.py: a stand-in for parleyd that checks the e2e harness itself.

Speaks just enough of shared/PROTOCOL.md for one participant in an echo
room, with aiortc as the media stack: join -> joined; the client's `pub`
offer gets an aiortc answer; once pub's tracks are known it opens `sub`
(offer rev 1, msid <participant-id> <track-id>) that sends the received
audio and video back (decoded and re-encoded by aiortc). Its own candidates
are trickled ({"type":"candidate",...} then null) instead of being left in
the SDP, so the clients' trickle handling is exercised too.

Takes parleyd's command line (--listen 127.0.0.1:0 --data-dir DIR, the rest
ignored) and logs "listening on http://127.0.0.1:PORT", so it drops in for
$PARLEYD:

    PARLEYD=tests/e2e/tools/fake_parleyd.py PARLEY_E2E_FAKE=1 node tests/e2e/echo_chromium.mjs
    PARLEYD=tests/e2e/tools/fake_parleyd.py /usr/bin/python3 tests/e2e/echo_aiortc.py

aiortc only does AES-CM and its SDP is not parleyd's: PARLEY_E2E_FAKE=1 tells the
Chromium test. Not a
meson test: a developer tool for when the harness is in doubt.
"""
import argparse, asyncio, json, re, secrets, signal, sys, time

import aioice.ice
import aiortc.codecs
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
from aiortc.sdp import candidate_from_sdp

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
aiortc.codecs.HEADER_EXTENSIONS["audio"][1] = RTCRtpHeaderExtensionParameters(
    id=3, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level")

ap = argparse.ArgumentParser()
ap.add_argument("--listen", default="127.0.0.1:0")
ap.add_argument("--data-dir")
args, _ = ap.parse_known_args()
T0 = time.monotonic()


def log(*a):
    print(f"{time.monotonic() - T0:8.3f} fake-parleyd", *a, file=sys.stderr, flush=True)


def split_candidates(sdp):
    """(sdp without candidate lines, [(mline index, mid, "candidate:...")])"""
    out, cands, idx, mid = [], [], -1, None
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            idx += 1
        if line.startswith("a=mid:"):
            mid = line[6:]
        if line.startswith("a=candidate:"):
            cands.append((idx, line[2:]))
            continue
        if line == "a=end-of-candidates":
            continue
        out.append(line)
    mids = re.findall(r"^a=mid:(\S+)", sdp, re.M)
    return "\r\n".join(out), [(i, mids[i] if i < len(mids) else None, c) for i, c in cands]


class Session:
    def __init__(self, ws):
        self.ws, self.pid, self.relay = ws, f"p-{secrets.token_hex(4)}", MediaRelay()
        self.pcs, self.tracks, self.rev = {}, [], 0

    async def send(self, m):
        await self.ws.send(json.dumps(m))

    async def trickle(self, name, sdp_with_cands):
        sdp, cands = split_candidates(sdp_with_cands)
        # BUNDLE: only the first m-section's transport is used
        for idx, mid, c in cands:
            if idx == 0:
                await self.send({"type": "candidate", "pc": name,
                                 "candidate": {"candidate": c, "sdpMid": mid, "sdpMLineIndex": 0}})
        await self.send({"type": "candidate", "pc": name, "candidate": None})

    def pc(self, name):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[name] = pc
        pc.on("connectionstatechange", lambda: log(self.pid, name, pc.connectionState))
        return pc

    async def on_pub_offer(self, m):
        pc = self.pc("pub")
        pc.on("track", lambda t: self.tracks.append(t))
        await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        sdp, _ = split_candidates(pc.localDescription.sdp)
        await self.send({"type": "answer", "pc": "pub", "id": m.get("id"), "sdp": sdp})
        await self.trickle("pub", pc.localDescription.sdp)
        await self.open_sub()

    async def open_sub(self):
        pc = self.pc("sub")
        for t in sorted(self.tracks, key=lambda t: t.kind):        # audio, then video
            tr = pc.addTransceiver(self.relay.subscribe(t), direction="sendonly")
            tr.sender._stream_id = self.pid                          # a=msid:<participant> <track>
        await pc.setLocalDescription(await pc.createOffer())
        self.rev += 1
        sdp, _ = split_candidates(pc.localDescription.sdp)
        await self.send({"type": "offer", "pc": "sub", "rev": self.rev, "sdp": sdp})
        await self.trickle("sub", pc.localDescription.sdp)

    async def on_answer(self, m):
        if m.get("pc") != "sub" or m.get("rev") != self.rev:
            return await self.send({"type": "error", "code": "conflict", "message": "stale rev"})
        await self.pcs["sub"].setRemoteDescription(RTCSessionDescription(m["sdp"], "answer"))

    async def on_candidate(self, m):
        pc, c = self.pcs.get(m.get("pc")), m.get("candidate")
        if pc is None:
            return
        owner = next((t for t in pc.getTransceivers() if not t._bundled), None)
        if owner is None:
            return
        if c is None:
            return await owner.sender.transport.transport.addRemoteCandidate(None)
        ic = candidate_from_sdp(c["candidate"].split(":", 1)[1])
        ic.sdpMid = owner.mid
        await owner.sender.transport.transport.addRemoteCandidate(ic)

    async def run(self):
        async for raw in self.ws:
            m = json.loads(raw)
            t = m.get("type")
            try:
                if t == "join":
                    await self.send({"type": "joined", "id": m.get("id"), "room": m.get("room"),
                                     "you": {"id": self.pid, "display": m.get("display")},
                                     "participants": [], "ice_servers": [], "chat": {"last_seq": 0}})
                elif t == "offer" and m.get("pc") == "pub":
                    await self.on_pub_offer(m)
                elif t == "answer":
                    await self.on_answer(m)
                elif t == "candidate":
                    await self.on_candidate(m)
                elif t == "leave":
                    break
            except Exception as e:
                log("error handling", t, repr(e))
                await self.send({"type": "error", "id": m.get("id"), "code": "internal", "message": repr(e)})

    async def close(self):
        for pc in self.pcs.values():
            await pc.close()


async def handler(ws, path=None):
    s = Session(ws)
    log("connection", s.pid)
    try:
        await s.run()
    except websockets.ConnectionClosed:
        pass
    finally:
        await s.close()
        log("closed", s.pid)


async def main():
    host, port = args.listen.rsplit(":", 1)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(1))
    async with websockets.serve(handler, host, int(port), subprotocols=["parley.v1"]) as srv:
        p = srv.sockets[0].getsockname()[1]
        log(f"fake parleyd listening on http://127.0.0.1:{p} (ws at /ws)")
        await stop
    log("bye")


asyncio.run(main())
