#!/usr/bin/python3
"""echo_aiortc.py: aiortc (Debian python3-aiortc 1.4) as an independent native
peer against the real parleyd in an echo room.

It joins `echo-<random>`, publishes VP8 video (a moving test pattern) and Opus
audio (a 440 Hz tone) on its `pub` connection (client offer), answers the
server's `sub` offers (with their `rev`) and checks that its own media comes
back on `sub` and DECODES: at least --min-video av.VideoFrames with the sent
size and --min-audio av.AudioFrames, within --media-timeout seconds of the
pub connection coming up. aiortc only does AES_CM_128_HMAC_SHA1_80, so this
proves the AES-CM SRTP profile (Chromium proves AES-GCM).

Signaling: WebSocket subprotocol parley.v1 (python3-websockets). aiortc does
not trickle: its candidates are inside its SDP (one set per m-section, as
aiortc does), followed by {"type":"candidate","pc":...,"candidate":null}.
Candidates the server trickles are added to the BUNDLE transport.

    PARLEYD=/path/to/parleyd /usr/bin/python3 tests/e2e/echo_aiortc.py
    /usr/bin/python3 tests/e2e/echo_aiortc.py --url ws://127.0.0.1:8080/ws   (a running server)

Prints one JSON summary line on stdout; logs on stderr. Exit 0 on success,
1 on failure, 77 (meson: skipped) when aiortc or websockets is missing.

Patches applied to aiortc, as real deployments of aiortc 1.4 need them here:
- aioice gathers only on 127.0.0.1 (it skips loopback by default; every test
  keeps its media on 127.0.0.1);
- as offerer aiortc gives extmap id 2 to abs-send-time (video) and to
  ssrc-audio-level (audio) in one BUNDLE and then breaks its own receive path;
  audio-level gets id 3 instead (--raw-extmap keeps the quirk).
"""
import argparse, asyncio, fractions, json, math, os, secrets, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree

try:
    import numpy as np
    import av
    import websockets
    import aioice.ice
    import aiortc
    import aiortc.codecs
    from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,
                        RTCSessionDescription)
    from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
    from aiortc.sdp import candidate_from_sdp
except ImportError as e:   # pragma: no cover
    print(f"SKIP: {e} (apt-get install python3-aiortc python3-websockets; run with /usr/bin/python3)")
    sys.exit(77)

from parleyd import Parleyd

ap = argparse.ArgumentParser()
ap.add_argument("--url", help="WebSocket URL of a running server (default: start $PARLEYD)")
ap.add_argument("--room", default=None)
ap.add_argument("--setup-timeout", type=float, default=60,
                help="seconds for join, both negotiations and ICE/DTLS of pub")
ap.add_argument("--media-timeout", type=float, default=30,
                help="seconds from pub connected until the echo must have decoded")
ap.add_argument("--min-video", type=int, default=10)
ap.add_argument("--min-audio", type=int, default=25)
ap.add_argument("--width", type=int, default=640)
ap.add_argument("--height", type=int, default=360)
ap.add_argument("--raw-extmap", action="store_true", help="keep aiortc's duplicate extmap id")
ap.add_argument("--verbose", action="store_true")
args = ap.parse_args()

T0 = time.monotonic()
def now():
    return round(time.monotonic() - T0, 3)
def log(*a):
    print(f"[aiortc {now():7.3f}]", *a, file=sys.stderr, flush=True)

if args.verbose:
    import logging
    logging.basicConfig(level=logging.DEBUG)

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
if not args.raw_extmap:
    aiortc.codecs.HEADER_EXTENSIONS["audio"][1] = RTCRtpHeaderExtensionParameters(
        id=3, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level")

# Diagnostics for the summary: the RTCP feedback our senders get from the
# server (a lost echo of video usually means no keyframe reached `sub`, and
# aiortc only sends a keyframe at its start and when asked with a PLI/FIR).
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RtcpPsfbPacket, RtcpRtpfbPacket
FEEDBACK = {}
_handle_rtcp = RTCRtpSender._handle_rtcp_packet
async def _count_rtcp(self, packet):
    name = {(RtcpPsfbPacket, 1): "pli", (RtcpPsfbPacket, 4): "fir", (RtcpPsfbPacket, 15): "remb",
            (RtcpRtpfbPacket, 1): "nack"}.get((type(packet), getattr(packet, "fmt", None)))
    if name:
        key = f"{self.kind}_{name}"
        FEEDBACK[key] = FEEDBACK.get(key, 0) + 1
        if name in ("pli", "fir") and f"t_first_{key}" not in FEEDBACK:
            FEEDBACK[f"t_first_{key}"] = now()
    return await _handle_rtcp(self, packet)
RTCRtpSender._handle_rtcp_packet = _count_rtcp

VIDEO_CLOCK, AUDIO_RATE, FPS = 90000, 48000, 30


class PatternTrack(MediaStreamTrack):
    """A moving test pattern: diagonal luma bands that shift every frame,
    plus a bright square crossing the picture. yuv420p, paced at 30 fps."""
    kind = "video"

    def __init__(self, w, h):
        super().__init__()
        self.w, self.h, self.n, self.start = w, h, 0, None
        y, x = np.mgrid[0:h, 0:w]
        self.bands = ((x + y) * 2).astype(np.uint8)
        self.chroma = np.full((h // 2, w), 128, np.uint8)   # U then V (h/2 x w/2 each), stacked

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.n / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        luma = self.bands + np.uint8((self.n * 4) % 256)
        s = max(8, self.h // 6)
        x0 = (self.n * 6) % (self.w - s)
        y0 = (self.n * 3) % (self.h - s)
        luma[y0:y0 + s, x0:x0 + s] = 235
        frame = av.VideoFrame.from_ndarray(np.vstack([luma, self.chroma]), format="yuv420p")
        frame.pts, frame.time_base = self.n * (VIDEO_CLOCK // FPS), fractions.Fraction(1, VIDEO_CLOCK)
        self.n += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone, 20 ms frames of s16 mono at 48 kHz, paced in real time."""
    kind = "audio"

    def __init__(self):
        super().__init__()
        self.n, self.start = 0, None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.n * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        spf = AUDIO_RATE // 50
        t = (np.arange(spf) + self.n * spf) / AUDIO_RATE
        pcm = (6000 * np.sin(2 * math.pi * 440 * t)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, self.n * spf
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.n += 1
        return frame


class Failure(Exception):
    pass


RES = {"peer": "aiortc", "aiortc": aiortc.__version__, "errors": [], "sub_revs": []}


class Peer:
    """One participant: the WebSocket, `pub` and `sub`."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.replies = {}                       # id -> Future
        self.sub_answer_ids = {}                # id of each sub answer sent -> rev
        self.pcs = {}                           # 'pub' | 'sub' -> RTCPeerConnection
        self.locks = {"pub": asyncio.Lock(), "sub": asyncio.Lock()}
        self.pending = {"pub": [], "sub": []}   # remote candidates before the remote description
        self.res = RES
        self.got = {"video": 0, "audio": 0}
        self.sizes = set()
        self.audio_rates = set()
        self.decode_errors = []
        self.enough = asyncio.Event()
        self.failed = asyncio.Event()
        self.pub_connected = asyncio.Event()
        self.tasks = []

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def request(self, msg, what, timeout, then=()):
        """Sends msg with a fresh id (then the messages in `then`) and returns the reply."""
        mid = self.next_id
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.replies[mid] = fut
        await self.send({**msg, "id": mid})
        for m in then:
            await self.send(m)
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise Failure(f"timeout after {timeout} s waiting for the reply to {what}")
        if reply.get("type") == "error":
            raise Failure(f"{what}: server replied error {reply.get('code')}: {reply.get('message')}")
        return reply

    async def reader(self):
        try:
            async for raw in self.ws:
                try:
                    m = json.loads(raw)
                except ValueError:
                    log("non-JSON frame", raw[:200]); continue
                await self.dispatch(m)
        except websockets.ConnectionClosed:
            pass
        log("websocket closed", self.ws.close_code, self.ws.close_reason)
        self.res["ws_closed"] = [self.ws.close_code, self.ws.close_reason]
        self.fail("WebSocket closed")

    def fail(self, why):
        if not self.enough.is_set() and "failure" not in self.res:
            self.res["failure"] = why
        self.failed.set()

    async def dispatch(self, m):
        if "id" in m and m["id"] in self.replies:
            self.replies.pop(m["id"]).set_result(m)
            return
        t = m.get("type")
        if t == "offer" and m.get("pc") == "sub":
            self.tasks.append(asyncio.ensure_future(self.guard(self.on_sub_offer(m))))
        elif t == "candidate" and m.get("pc") in ("pub", "sub"):
            self.tasks.append(asyncio.ensure_future(self.guard(self.on_candidate(m["pc"], m.get("candidate")))))
        elif t == "error":
            log("server error", m)
            self.res["errors"].append(m)
            if m.get("id") in self.sub_answer_ids:
                self.fail(f"sub answer (rev {self.sub_answer_ids[m['id']]}): server replied error "
                          f"{m.get('code')}: {m.get('message')}")
        else:
            self.res.setdefault("other_messages", []).append(t)

    async def guard(self, coro):
        try:
            await coro
        except Exception as e:
            log("failed:", repr(e))
            self.fail(f"{type(e).__name__}: {e}")

    def make_pc(self, name):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))   # None would mean Google's STUN
        self.pcs[name] = pc

        @pc.on("connectionstatechange")
        async def _():
            log(name, "connectionState", pc.connectionState)
            if pc.connectionState == "connected":
                self.res.setdefault(f"t_{name}_connected", now())
                if name == "pub":
                    self.pub_connected.set()
            elif pc.connectionState == "failed":
                self.fail(f"{name} connection failed")
        return pc

    # -- candidates -------------------------------------------------------

    async def on_candidate(self, name, cand):
        self.res.setdefault(f"{name}_remote_candidates", []).append(cand and cand.get("candidate"))
        async with self.locks[name]:
            pc = self.pcs.get(name)
            if pc is None or pc.remoteDescription is None:
                self.pending[name].append(cand)
                return
            await self.add_candidate(name, cand)

    async def add_candidate(self, name, cand):
        pc = self.pcs[name]
        # With BUNDLE only the first transceiver keeps a transport; aiortc
        # ignores candidates whose sdpMid names a bundled one, so every
        # candidate goes to the BUNDLE transport.
        owner = next((t for t in pc.getTransceivers() if not t._bundled), None)
        if owner is None:
            return
        if cand is None:
            await owner.sender.transport.transport.addRemoteCandidate(None)
            return
        line = cand["candidate"]
        c = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
        c.sdpMid, c.sdpMLineIndex = owner.mid, None
        await owner.sender.transport.transport.addRemoteCandidate(c)

    async def flush(self, name):
        for c in self.pending[name]:
            await self.add_candidate(name, c)
        self.pending[name].clear()

    # -- pub --------------------------------------------------------------

    async def publish(self):
        pc = self.make_pc("pub")
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(PatternTrack(args.width, args.height), direction="sendonly")
        async with self.locks["pub"]:
            await pc.setLocalDescription(await pc.createOffer())   # aiortc gathers here
        self.res["pub_offer_sdp"] = pc.localDescription.sdp
        # the candidates are in the SDP; end-of-candidates right behind it
        ans = await self.request({"type": "offer", "pc": "pub", "sdp": pc.localDescription.sdp},
                                 "pub offer", args.setup_timeout,
                                 then=[{"type": "candidate", "pc": "pub", "candidate": None}])
        if ans.get("type") != "answer" or ans.get("pc") != "pub":
            raise Failure(f"pub offer: unexpected reply {json.dumps(ans)[:300]}")
        self.res["pub_answer_sdp"] = ans["sdp"]
        self.res["t_pub_answer"] = now()
        async with self.locks["pub"]:
            await pc.setRemoteDescription(RTCSessionDescription(ans["sdp"], "answer"))
            await self.flush("pub")

    # -- sub --------------------------------------------------------------

    async def on_sub_offer(self, m):
        rev = m.get("rev")
        log("sub offer rev", rev)
        self.res["sub_revs"].append(rev)
        self.res["sub_offer_sdp"] = m.get("sdp")
        self.res.setdefault("t_sub_offer", now())
        async with self.locks["sub"]:
            pc = self.pcs.get("sub")
            first = pc is None
            if first:
                pc = self.make_pc("sub")
                pc.on("track", self.on_track)
            await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "offer"))
            await self.flush("sub")
            await pc.setLocalDescription(await pc.createAnswer())
        self.res["sub_answer_sdp"] = pc.localDescription.sdp
        aid = self.next_id                      # errors about the answer echo its id
        self.next_id += 1
        self.sub_answer_ids[aid] = rev
        await self.send({"type": "answer", "pc": "sub", "id": aid, "rev": rev, "sdp": pc.localDescription.sdp})
        if first:
            await self.send({"type": "candidate", "pc": "sub", "candidate": None})
        log("sub answered rev", rev)

    def on_track(self, track):
        log("sub track", track.kind, track.id)
        self.res.setdefault("sub_tracks", []).append(track.kind)
        self.tasks.append(asyncio.ensure_future(self.consume(track)))

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except Exception as e:          # MediaStreamError when the track ends
                log("sub track ended", track.kind, repr(e))
                return
            if track.kind == "video":
                if not isinstance(frame, av.VideoFrame) or frame.width <= 0 or frame.height <= 0:
                    self.decode_errors.append(repr(frame)); continue
                self.sizes.add((frame.width, frame.height))
                # the decoded picture must be our pattern: its luma is not flat
                if self.got["video"] == 0:
                    luma = frame.to_ndarray(format="gray")
                    self.res["first_frame_luma_std"] = round(float(luma.std()), 1)
            else:
                if not isinstance(frame, av.AudioFrame) or frame.samples <= 0:
                    self.decode_errors.append(repr(frame)); continue
                self.audio_rates.add(frame.sample_rate)
            self.got[track.kind] += 1
            if self.got[track.kind] == 1:
                self.res[f"t_first_{track.kind}"] = now()
                log("first", track.kind, "frame decoded")
            if self.got["video"] >= args.min_video and self.got["audio"] >= args.min_audio:
                self.enough.set()

    async def close(self):
        for t in self.tasks:
            t.cancel()
        for pc in self.pcs.values():
            await pc.close()


async def wait_any(*events, timeout):
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def run(url):
    room = args.room or f"echo-{secrets.token_hex(6)}"
    RES["stage"] = "websocket"
    try:
        ws = await asyncio.wait_for(websockets.connect(url, subprotocols=["parley.v1"], max_size=None),
                                    args.setup_timeout)
    except Exception as e:
        raise Failure(f"WebSocket to {url} failed: {e!r}")
    peer = Peer(ws)
    peer.res.update(room=room, ws_protocol=ws.subprotocol)
    reader = asyncio.ensure_future(peer.reader())
    try:
        RES["stage"] = "join"
        joined = await peer.request({"type": "join", "room": room, "display": "e2e-aiortc"},
                                    "join", args.setup_timeout)
        if joined.get("type") != "joined":
            raise Failure(f"join: unexpected reply {json.dumps(joined)[:300]}")
        peer.res["you"] = joined.get("you")
        peer.res["t_joined"] = now()
        log("joined", room, "as", (joined.get("you") or {}).get("id"))

        RES["stage"] = "pub negotiation"
        await peer.publish()
        RES["stage"] = "pub ICE/DTLS"
        await wait_any(peer.pub_connected, peer.failed, timeout=args.setup_timeout)
        if peer.failed.is_set():
            raise Failure(peer.res.get("failure", "failed"))
        if not peer.pub_connected.is_set():
            raise Failure(f"pub did not connect within {args.setup_timeout} s "
                          f"(state {peer.pcs['pub'].connectionState})")
        RES["stage"] = "echo"
        await wait_any(peer.enough, peer.failed, timeout=args.media_timeout)
        res = peer.res
        res["pub_feedback"] = dict(FEEDBACK)
        res.update(video_frames=peer.got["video"], audio_frames=peer.got["audio"],
                   video_sizes=sorted(peer.sizes), audio_rates=sorted(peer.audio_rates),
                   decode_errors=peer.decode_errors[:5])
        if not peer.enough.is_set():
            raise Failure(res.get("failure") or
                          f"echo incomplete {args.media_timeout} s after pub connected: "
                          f"{peer.got['video']} video frames (want {args.min_video}), "
                          f"{peer.got['audio']} audio frames (want {args.min_audio})")
        res["echo_s_after_pub_connected"] = round(res[f"t_first_video"] - res["t_pub_connected"], 3)
        if (args.width, args.height) not in peer.sizes:
            raise Failure(f"decoded video size {sorted(peer.sizes)}, sent {args.width}x{args.height}")
        if res.get("first_frame_luma_std", 0) < 5:
            raise Failure(f"decoded picture is flat (luma std {res.get('first_frame_luma_std')})")
        if AUDIO_RATE not in peer.audio_rates:
            raise Failure(f"decoded audio rates {sorted(peer.audio_rates)}")
        me = (peer.res.get("you") or {}).get("id")
        sub_sdp = peer.res.get("sub_offer_sdp") or ""
        msids = [l.split(":", 1)[1].split()[0] for l in sub_sdp.split("\r\n") if l.startswith("a=msid:")]
        res["sub_msid_streams"] = msids
        if me and msids and any(s != me for s in msids):
            raise Failure(f"sub offer msid streams {msids} do not name our participant id {me}")
        return res
    finally:
        try:
            await peer.send({"type": "leave"})
        except Exception:
            pass
        await peer.close()
        await ws.close()
        reader.cancel()


def main():
    srv = None
    res = RES
    code = 1
    try:
        if args.url:
            url = args.url
        else:
            srv = Parleyd().start()
            url = srv.ws_url
        asyncio.run(asyncio.wait_for(run(url), args.setup_timeout + args.media_timeout + 40))   # < meson 180 s
        res["ok"] = True
        if srv is not None and not srv.alive():
            raise Failure("parleyd died during the call")
        code = 0
    except Failure as e:
        res.update(ok=False, failure=str(e))
    except asyncio.TimeoutError:
        res.update(ok=False, failure=f"gave up after {args.setup_timeout + args.media_timeout + 40} s "
                                     f"in stage '{res.get('stage')}'")
    except Exception as e:
        res.update(ok=False, failure=f"{type(e).__name__}: {e}" if str(e) else repr(e))
    finally:
        if srv is not None:
            rc = srv.stop()
            res["parleyd_exit"] = rc
            if code == 0 and rc != 0:
                res.update(ok=False, failure=f"parleyd exited with {rc} on SIGTERM")
                code = 1
            if code != 0:
                srv.dump("echo_aiortc failed")
    sdps = {k: res.pop(k) for k in list(res) if k.endswith("_sdp")}
    if code != 0:
        for k, v in sdps.items():
            print(f"----- {k} -----\n{v}", file=sys.stderr)
    print(json.dumps(res, default=str))
    sys.exit(code)


main()
