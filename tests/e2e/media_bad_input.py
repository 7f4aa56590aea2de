#!/usr/bin/python3
"""media_bad_input.py: hostile UDP and a wrong DTLS fingerprint at parleyd's
media ports, while a real aiortc peer (python3-aiortc 1.4) keeps an echo
call going. issue 3, "Bad input": garbage, truncated and oversize datagrams
at the media port and DTLS with a wrong fingerprint are rejected and
counted, and the server is unharmed.

1. Peer A joins `echo-<random>`, publishes VP8 + Opus on `pub` and decodes
   its own echo on `sub` (as tests/e2e/echo_aiortc.py does).
2. The server's media ports are read from A's pub answer and sub offer
   (their 127.0.0.1 host candidates). Families of junk, seeded (--seed):
     random        1,000 datagrams of random bytes, 1-1400 bytes long
     rtp-short     truncated RTP: 1-11 bytes starting 0x80
     rtp-garbage   RTP headers with random SSRCs + garbage "SRTP" payloads
     rtcp-garbage  RTCP-looking (PT 200-206) garbage
     dtls-junk     first byte 22 or 23 (20, 21 too), DTLS 1.2 version, junk
     stun-junk     first byte 0 or 1, some with the magic cookie
     oversize      60,000-byte datagrams led by each of the above, and two
                   of 65,507 bytes (the largest UDP payload over IPv4)
   Phase "outside": sent from a separate UDP socket (an address that is not
     a validated ICE candidate pair) at the pub and sub ports.
   Phase "on-path": the same families sent from A's own selected pair (its
     aioice socket, to the server's address of that pair): what an on-path
     attacker spoofing A's address could send. Plus a replay of one of A's
     own SRTP packets (captured from aioice) through that socket.
3. Peer B publishes with a WRONG a=fingerprint (one hex digit flipped in
   the pub offer it sends; its DTLS certificate is unchanged).

What is asserted (and why):
- parleyd stays alive, /healthz answers {"status":"ok"}, and A's echo keeps
  decoding NEW video frames after every phase, its pub/sub stay connected.
- outside: libnice 0.1.21 does not hand any datagram from an address that
  is not the remote end of a validated pair to parleyd (measured here: of
  ~3,000 junk datagrams, none reached parleyd's receive callback, whatever
  its first byte), so parleyd's own counters must NOT move for them:
  other_in, dtls_in and srtp_errors stay unchanged (A's own traffic never
  touches those three; rtp_in/rtcp_in move with A's media and are not
  judged). Junk STUN is libnice's to judge (a check without valid
  credentials is not answered with success). If the transport changes (a
  single-port UDP mux that sees everything), run with --outside-reaches:
  then the junk must reach the demux and be counted.
- on-path: every datagram reaches parleyd's RFC 7983 demux and is counted
  by class: first byte 20-63 -> dtls_in (and dropped by the DTLS layer:
  A's association stays up); RTP/RTCP-class -> rtp_in/rtcp_in and, as
  none authenticates, srtp_errors (RTP on the sub connection: drops);
  anything else -> other_in, except well-formed STUN, which libnice takes.
  The replayed SRTP packet is refused by libsrtp's replay check
  (srtp_errors). The only excuse for a shortfall is the kernel dropping
  datagrams at parleyd's full socket (its drops column in /proc/net/udp):
  the shortfall may not exceed those drops (0 seen so far).
- wrong fingerprint: the server completes the handshake, hashes B's
  certificate, finds it does not match and fails the association with a
  close_notify: media.fingerprint_mismatches and media.dtls_failures grow
  by one, B's DTLS transport goes to "closed" (aiortc itself saw the
  handshake complete, and its RTCPeerConnection stays "connected": aiortc
  1.4 ignores a closed DTLS transport in connectionState), none of B's
  media is forwarded (its echo decodes nothing), B's WebSocket stays open
  (only ICE loss ends a participant) and A is unaffected.

    PARLEYD=/path/to/parleyd /usr/bin/python3 tests/e2e/media_bad_input.py

Prints one JSON summary line on stdout; logs on stderr. Exit 0 on success,
1 on failure, 77 (meson: skipped) when aiortc or websockets is missing.
"""
import argparse, asyncio, fractions, json, math, os, random, re, secrets, socket, struct, sys, time
import urllib.request

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
from kernel_udp import udp_socket, snmp_rcvbuf_errors

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, default=None, help="junk generator seed (default: random, printed)")
ap.add_argument("--random-count", type=int, default=1000)
ap.add_argument("--setup-timeout", type=float, default=45)
ap.add_argument("--outside-reaches", action="store_true",
                help="expect datagrams from unvalidated addresses to reach parleyd (not libnice)")
ap.add_argument("--verbose", action="store_true")
args = ap.parse_args()

SEED = args.seed if args.seed is not None else secrets.randbits(32)
T0 = time.monotonic()


def now():
    return round(time.monotonic() - T0, 3)


def log(*a):
    print(f"[bad-media {now():7.3f}]", *a, file=sys.stderr, flush=True)


if args.verbose:
    import logging
    logging.basicConfig(level=logging.DEBUG)

# ---- aiortc patches (as tests/e2e/echo_aiortc.py) -------------------------
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
aiortc.codecs.HEADER_EXTENSIONS["audio"][1] = RTCRtpHeaderExtensionParameters(
    id=3, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level")

# The last SRTP (not SRTCP) datagram each aioice socket sent to each address:
# a packet of A's own to replay.
SENT_RTP = {}
_send_data = aioice.ice.StunProtocol.send_data


async def _capture_send_data(self, data, addr):
    if len(data) >= 100 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223:
        SENT_RTP[(id(self), tuple(addr))] = bytes(data)
    await _send_data(self, data, addr)
aioice.ice.StunProtocol.send_data = _capture_send_data

VIDEO_CLOCK, AUDIO_RATE, FPS = 90000, 48000, 30


class PatternTrack(MediaStreamTrack):
    """A moving test pattern, yuv420p, 320x240, paced at 30 fps."""
    kind = "video"

    def __init__(self, w=320, h=240):
        super().__init__()
        self.w, self.h, self.n, self.start = w, h, 0, None
        y, x = np.mgrid[0:h, 0:w]
        self.bands = ((x + y) * 2).astype(np.uint8)
        self.chroma = np.full((h // 2, w), 128, np.uint8)

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.n / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        luma = self.bands + np.uint8((self.n * 4) % 256)
        s = max(8, self.h // 6)
        x0, y0 = (self.n * 6) % (self.w - s), (self.n * 3) % (self.h - s)
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


RES = {"test": "media_bad_input", "aiortc": aiortc.__version__, "seed": SEED}


def flip_fingerprints(sdp):
    """Flips the first hex digit of every a=fingerprint value (all the same)."""
    def flip(m):
        fp = m.group(2)
        c = fp[0]
        nc = "0" if c.upper() == "F" else format(int(c, 16) + 1, "X")
        return m.group(1) + nc + fp[1:]
    out, n = re.subn(r"(a=fingerprint:sha-256 )([0-9A-Fa-f:]+)", flip, sdp)
    if n == 0:
        raise Failure("no a=fingerprint:sha-256 in aiortc's offer")
    return out


class Peer:
    """One participant: the WebSocket, `pub` and `sub` (the echo-room flow)."""

    def __init__(self, name, ws, wrong_fingerprint=False):
        self.name, self.ws, self.wrong_fp = name, ws, wrong_fingerprint
        self.next_id = 1
        self.replies = {}
        self.pcs = {}
        self.locks = {"pub": asyncio.Lock(), "sub": asyncio.Lock()}
        self.pending = {"pub": [], "sub": []}
        self.got = {"video": 0, "audio": 0}
        self.states = {"pub": [], "sub": []}
        self.errors = []
        self.remote_cands = {"pub": [], "sub": []}
        self.sdp = {}
        self.pub_connected = asyncio.Event()
        self.failed = asyncio.Event()
        self.failure = None
        self.ws_closed = None
        self.tasks = []
        self.reader = asyncio.ensure_future(self.read())

    def log(self, *a):
        log(f"[{self.name}]", *a)

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def request(self, msg, what, timeout, then=()):
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
            raise Failure(f"{self.name}: timeout after {timeout} s waiting for the reply to {what}")
        if reply.get("type") == "error":
            raise Failure(f"{self.name}: {what}: server replied error {reply.get('code')}: {reply.get('message')}")
        return reply

    async def read(self):
        try:
            async for raw in self.ws:
                try:
                    m = json.loads(raw)
                except ValueError:
                    continue
                await self.dispatch(m)
        except websockets.ConnectionClosed:
            pass
        self.ws_closed = [self.ws.close_code, self.ws.close_reason]
        self.log("websocket closed", self.ws_closed)
        self.fail("WebSocket closed")

    def fail(self, why):
        if self.failure is None:
            self.failure = why
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
            self.log("server error", m)
            self.errors.append(m)

    async def guard(self, coro):
        try:
            await coro
        except Exception as e:
            self.log("failed:", repr(e))
            self.fail(f"{type(e).__name__}: {e}")

    def make_pc(self, name):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[name] = pc

        @pc.on("connectionstatechange")
        async def _():
            self.log(name, "connectionState", pc.connectionState)
            self.states[name].append([now(), pc.connectionState])
            if pc.connectionState == "connected" and name == "pub":
                self.pub_connected.set()
            elif pc.connectionState == "failed" and not self.wrong_fp:
                self.fail(f"{name} connection failed")
        return pc

    def owner(self, name):
        pc = self.pcs.get(name)
        return pc and next((t for t in pc.getTransceivers() if not t._bundled), None)

    def ice_connection(self, name):
        """aiortc's aioice Connection of the BUNDLE transport of `name`."""
        o = self.owner(name)
        return o.sender.transport.transport._connection if o else None

    async def on_candidate(self, name, cand):
        self.remote_cands[name].append(cand and cand.get("candidate"))
        async with self.locks[name]:
            pc = self.pcs.get(name)
            if pc is None or pc.remoteDescription is None:
                self.pending[name].append(cand)
                return
            await self.add_candidate(name, cand)

    async def add_candidate(self, name, cand):
        owner = self.owner(name)
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

    async def join(self, room):
        j = await self.request({"type": "join", "room": room, "display": self.name}, "join", args.setup_timeout)
        if j.get("type") != "joined":
            raise Failure(f"{self.name}: join: {json.dumps(j)[:300]}")
        self.pid = (j.get("you") or {}).get("id")
        return j

    async def publish(self):
        pc = self.make_pc("pub")
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(PatternTrack(), direction="sendonly")
        async with self.locks["pub"]:
            await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        if self.wrong_fp:
            sdp = flip_fingerprints(sdp)
        self.sdp["pub_offer"] = sdp
        ans = await self.request({"type": "offer", "pc": "pub", "sdp": sdp}, "pub offer", args.setup_timeout,
                                 then=[{"type": "candidate", "pc": "pub", "candidate": None}])
        if ans.get("type") != "answer" or ans.get("pc") != "pub":
            raise Failure(f"{self.name}: pub offer: unexpected reply {json.dumps(ans)[:300]}")
        self.sdp["pub_answer"] = ans["sdp"]
        async with self.locks["pub"]:
            await pc.setRemoteDescription(RTCSessionDescription(ans["sdp"], "answer"))
            await self.flush("pub")

    async def on_sub_offer(self, m):
        rev = m.get("rev")
        self.sdp["sub_offer"] = m.get("sdp")
        async with self.locks["sub"]:
            pc = self.pcs.get("sub")
            first = pc is None
            if first:
                pc = self.make_pc("sub")
                pc.on("track", self.on_track)
            await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "offer"))
            await self.flush("sub")
            await pc.setLocalDescription(await pc.createAnswer())
        aid = self.next_id
        self.next_id += 1
        await self.send({"type": "answer", "pc": "sub", "id": aid, "rev": rev, "sdp": pc.localDescription.sdp})
        if first:
            await self.send({"type": "candidate", "pc": "sub", "candidate": None})

    def on_track(self, track):
        self.tasks.append(asyncio.ensure_future(self.consume(track)))

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            if track.kind == "video" and (not isinstance(frame, av.VideoFrame) or frame.width <= 0):
                continue
            self.got[track.kind] += 1

    async def wait_frames(self, n, timeout, what):
        """Waits until n more video frames than now have decoded."""
        start = self.got["video"]
        end = time.monotonic() + timeout
        while self.got["video"] < start + n:
            if self.failed.is_set():
                raise Failure(f"{self.name}: {what}: {self.failure}")
            if time.monotonic() > end:
                raise Failure(f"{self.name}: {what}: only {self.got['video'] - start} new video frames "
                              f"decoded in {timeout} s (want {n})")
            await asyncio.sleep(0.05)
        return self.got["video"] - start

    def conn_states(self):
        return {k: pc.connectionState for k, pc in self.pcs.items()}

    async def close(self):
        for t in self.tasks:
            t.cancel()
        for pc in self.pcs.values():
            await pc.close()
        try:
            await self.ws.close()
        except Exception:
            pass
        self.reader.cancel()


# ---- junk ------------------------------------------------------------------

def classify(d):
    """parleyd's RFC 7983 demux (media/rtp.c pl_rtp_demux_classify)."""
    if not d:
        return "other"
    b = d[0]
    if b <= 3:
        return "stun"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        if len(d) < 2:
            return "other"
        return "rtcp" if 192 <= d[1] <= 223 else "rtp"
    return "other"


def stun_like(d):
    """Would libnice take d as STUN (RFC 5389 framing: top two bits 0, length
    field = size - 20, a multiple of 4)? Those never reach parleyd."""
    return (len(d) >= 20 and d[0] & 0xC0 == 0 and struct.unpack("!H", d[2:4])[0] == len(d) - 20
            and (len(d) - 20) % 4 == 0)


def junk_families(rng, n_random):
    rb = rng.randbytes
    fam = {}
    fam["random"] = [rb(rng.randint(1, 1400)) for _ in range(n_random)]
    fam["rtp-short"] = [bytes([0x80]) + rb(n - 1) for n in range(1, 12) for _ in range(3)]
    rtp = []
    for i in range(200):
        b0 = 0x80 | (0x10 if i % 4 == 0 else 0) | (rng.randint(0, 15) if i % 7 == 0 else 0)
        pt = rng.choice([96, 97, 111, 0x80 | 96, rng.randint(0, 127)])
        if 64 <= pt & 0x7f <= 95:          # keep it RTP-class, not RTCP
            pt = 96
        hdr = struct.pack("!BBHII", b0, pt, rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(32))
        rtp.append(hdr + rb(rng.randint(0, 1200)))
    fam["rtp-garbage"] = rtp
    fam["rtcp-garbage"] = [struct.pack("!BBH", 0x80 | rng.randint(0, 31), rng.randint(200, 206), rng.getrandbits(16))
                           + rb(rng.randint(0, 600)) for _ in range(50)]
    dtls = []
    for i in range(100):
        ct = [22, 23, 22, 23, 20, 21][i % 6]
        body = rb(rng.randint(0, 300))
        ln = len(body) if i % 3 else rng.getrandbits(16)
        dtls.append(struct.pack("!BBBHIH", ct, 0xFE, 0xFD, rng.getrandbits(16), rng.getrandbits(32), rng.getrandbits(16))[:11]
                    + struct.pack("!H", ln & 0xFFFF) + body)
    dtls += [bytes([22]) + rb(n) for n in range(0, 13)]        # shorter than a record header
    fam["dtls-junk"] = dtls
    stun = []
    for i in range(100):
        attrs = rb(4 * rng.randint(0, 30))
        if i % 2:
            attrs = struct.pack("!HH", 0x0006, 9) + b"Ab12:zz00" + b"\0\0\0" + attrs   # USERNAME
        typ = rng.choice([0x0001, 0x0101, 0x0111, 0x0011, rng.getrandbits(14)])
        cookie = 0x2112A442 if i % 3 else rng.getrandbits(32)
        ln = len(attrs) if i % 4 else rng.getrandbits(16)
        stun.append(struct.pack("!HHI", typ, ln, cookie) + rb(12) + attrs)
    fam["stun-junk"] = stun
    big = []
    for lead in (b"\x80\x60", b"\x80\xc8", b"\x16\xfe\xfd", b"\x17\xfe\xfd", b"\x00\x01", b"\xff", b"\x01\x01"):
        for _ in range(3):
            big.append(lead + rb(60000 - len(lead)))
    big += [b"\x80\x60" + rb(65505), b"\x16\xfe\xfd" + rb(65504)]      # the largest IPv4 UDP payload
    fam["oversize"] = big
    return fam


def expected_on_path(fams, pc):
    """Counter increases that the on-path junk must cause (lower bounds and
    an upper bound for other_in), for the pub or sub connection."""
    e = {"dtls_in": 0, "rtp_in": 0, "rtcp_in": 0, "srtp_errors": 0, "drops": 0, "other_in_min": 0, "other_in_max": 0}
    for d in (d for f in fams.values() for d in f):
        c = classify(d)
        if c == "dtls":
            e["dtls_in"] += 1
        elif c == "rtp":
            e["rtp_in"] += 1
            e["srtp_errors" if pc == "pub" else "drops"] += 1
        elif c == "rtcp":
            e["rtcp_in"] += 1
            e["srtp_errors"] += 1
        else:
            e["other_in_max"] += 1
            if not stun_like(d):
                e["other_in_min"] += 1
    return e


async def blast(send, fams):
    """Sends every datagram, yielding to the event loop every 25."""
    n = 0
    errors = 0
    for f in fams.values():
        for d in f:
            try:
                send(d)
            except OSError:
                errors += 1
            n += 1
            if n % 25 == 0:
                await asyncio.sleep(0.003)
    return n, errors


# ---- kernel UDP counters: lib/kernel_udp.py (udp_socket, snmp_rcvbuf_errors)

# Counters that only junk moves (A's own media moves rtp_in/rtcp_in).
JUNK_ONLY = ("dtls_in", "other_in", "srtp_errors")


async def settle_after_blast(srv, port, h0, k0, max_s=10.0):
    """Waits until parleyd has taken everything the blast left in its socket:
    the socket's receive queue is empty and the junk-only counters have not
    moved for 0.5 s (at least 1 s, at most max_s), instead of a fixed sleep that
    a starved worker may outlast.  Returns (healthz, kernel drops since k0,
    seconds waited)."""
    t0 = time.monotonic()
    last, t_last = None, t0
    while True:
        await asyncio.sleep(0.1)
        h = await healthz(srv)
        k = udp_socket(port)
        now_ = time.monotonic()
        cur = tuple(delta(h, h0, x) for x in JUNK_ONLY)
        if cur != last:
            last, t_last = cur, now_
        empty = k is None or k[1] == 0
        if (empty and now_ - t_last >= 0.5 and now_ - t0 >= 1.0) or now_ - t0 >= max_s:
            kd = (k[0] - k0[0]) if (k is not None and k0 is not None) else 0
            return h, kd, round(now_ - t0, 2)


# ---- the server ------------------------------------------------------------

def _get_healthz(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        return r.status, json.loads(r.read())


async def healthz(srv):
    if not srv.alive():
        raise Failure("parleyd died")
    status, j = await asyncio.get_running_loop().run_in_executor(None, _get_healthz, srv.port)
    if status != 200 or j.get("status") != "ok" or "media" not in j:
        raise Failure(f"/healthz: {status} {json.dumps(j)[:300]}")
    return j


def delta(h1, h0, key):
    return h1["media"][key] - h0["media"][key]


MEDIA_KEYS = ("rtp_in", "rtcp_in", "dtls_in", "other_in", "srtp_errors", "drops", "dtls_failures",
              "fingerprint_mismatches", "send_errors", "sdp_rejected", "peers")


def deltas(h1, h0):
    return {k: delta(h1, h0, k) for k in MEDIA_KEYS if k in h1["media"]}


def ports_of(sdp, cands):
    """127.0.0.1 UDP ports of the host candidates in sdp and the trickled cands."""
    lines = [l[len("a="):] for l in (sdp or "").split("\r\n") if l.startswith("a=candidate:")]
    lines += [c for c in cands if c]
    ports, others = set(), []
    for l in lines:
        f = l.split()
        if len(f) >= 8 and f[2].lower() == "udp":
            if f[4] == "127.0.0.1":
                ports.add(int(f[5]))
            else:
                others.append(l)
    return sorted(ports), others


async def settle(srv, secs=1.0):
    """Lets the worker drain its socket, then reads the counters."""
    await asyncio.sleep(secs)
    return await healthz(srv)


async def still_healthy(srv, peer, what):
    h = await healthz(srv)
    n = await peer.wait_frames(30, 20, f"echo after {what}")
    states = peer.conn_states()
    if any(s != "connected" for s in states.values()):
        raise Failure(f"{peer.name} after {what}: connection states {states}")
    return {"new_frames": n, "states": states, "connections": h.get("connections")}


async def connect(srv, name, wrong_fp=False):
    ws = await asyncio.wait_for(websockets.connect(srv.ws_url, subprotocols=["parley.v1"], max_size=None),
                                args.setup_timeout)
    return Peer(name, ws, wrong_fp)


async def run(srv):
    rng = random.Random(SEED)
    fams = junk_families(rng, args.random_count)
    RES["junk_counts"] = {k: len(v) for k, v in fams.items()}
    RES["junk_total"] = sum(len(v) for v in fams.values())

    # ---- 1. peer A: a working echo call --------------------------------------
    RES["stage"] = "peer A echo"
    a = await connect(srv, "A")
    try:
        await a.join(f"echo-{secrets.token_hex(6)}")
        await a.publish()
        done = asyncio.ensure_future(a.pub_connected.wait())
        await asyncio.wait([done, asyncio.ensure_future(a.failed.wait())], timeout=args.setup_timeout,
                           return_when=asyncio.FIRST_COMPLETED)
        if not a.pub_connected.is_set():
            raise Failure(f"A: pub did not connect: {a.failure or a.conn_states()}")
        await a.wait_frames(10, 30, "first echo")
        end = time.monotonic() + 15
        while a.conn_states().get("sub") != "connected" and time.monotonic() < end:
            await asyncio.sleep(0.05)
        RES["A_first_echo_s"] = now()
        log("A decodes its echo:", a.got)

        pub_ports, pub_other = ports_of(a.sdp.get("pub_answer"), a.remote_cands["pub"])
        sub_ports, sub_other = ports_of(a.sdp.get("sub_offer"), a.remote_cands["sub"])
        RES["server_ports"] = {"pub": pub_ports, "sub": sub_ports}
        if not pub_ports or not sub_ports:
            raise Failure(f"no 127.0.0.1 candidates from the server: pub {pub_ports} sub {sub_ports}")
        if pub_other or sub_other:
            raise Failure(f"server candidates off 127.0.0.1: {pub_other + sub_other}")

        # ---- 2a. outside: a separate socket --------------------------------
        RES["stage"] = "outside junk"
        h0 = await settle(srv, 0.5)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        sock.bind(("127.0.0.1", 0))
        sent = {}
        try:
            for port in pub_ports + sub_ports:
                n, errs = await blast(lambda d, p=port: sock.sendto(d, ("127.0.0.1", p)), fams)
                sent[port] = {"sent": n, "send_errors": errs}
            replay_src = None
            conn = a.ice_connection("pub")
            pair = conn and conn._nominated.get(1)
            if pair is not None:
                replay_src = SENT_RTP.get((id(pair.protocol), tuple(pair.remote_addr)))
            if replay_src:                   # A's own packet, from the wrong address
                for port in pub_ports:
                    sock.sendto(replay_src, ("127.0.0.1", port))
        finally:
            sock.close()
        h1 = await settle(srv, 1.5)
        d_out = deltas(h1, h0)
        RES["outside"] = {"sent": sent, "from": "127.0.0.1, a port in no ICE pair", "counters": d_out,
                          "replayed_A_packet": bool(replay_src)}
        log("outside junk:", d_out)
        if args.outside_reaches:
            if d_out["other_in"] <= 0 or d_out["dtls_in"] <= 0 or d_out["srtp_errors"] <= 0:
                raise Failure(f"outside junk was expected to reach parleyd's demux: {d_out}")
            RES["outside"]["finding"] = "reached parleyd's demux"
        else:
            RES["outside"]["finding"] = ("dropped before parleyd (libnice): other_in, dtls_in, "
                                         "srtp_errors unchanged")
            for k in ("other_in", "dtls_in", "srtp_errors"):
                if d_out[k] != 0:
                    raise Failure(f"outside junk reached parleyd ({k} +{d_out[k]}): libnice was expected to drop "
                                  f"non-STUN datagrams from addresses that are not a validated pair "
                                  f"(run with --outside-reaches if the transport changed): {d_out}")
        RES["outside"]["after"] = await still_healthy(srv, a, "outside junk")

        # ---- 2b. on-path: from A's own validated pair --------------------------
        RES["stage"] = "on-path junk"
        RES["on_path"] = {}
        for name in ("pub", "sub"):
            conn = a.ice_connection(name)
            pair = conn and conn._nominated.get(1)
            if pair is None:
                raise Failure(f"A: no nominated pair on {name}")
            h0 = await settle(srv, 0.5)
            tr, dst = pair.protocol.transport, tuple(pair.remote_addr)
            k0, snmp0 = udp_socket(dst[1]), snmp_rcvbuf_errors()
            n, errs = await blast(lambda d: tr.sendto(d, dst), fams)
            replays = 0
            if name == "pub":
                pkt = SENT_RTP.get((id(pair.protocol), dst))
                if pkt:
                    for _ in range(3):
                        tr.sendto(pkt, dst)
                    replays = 3
            h1, kdrops, waited = await settle_after_blast(srv, dst[1], h0, k0)
            snmp1 = snmp_rcvbuf_errors()
            d = deltas(h1, h0)
            exp = expected_on_path(fams, name)
            exp["srtp_errors"] += replays
            exp["rtp_in"] += replays
            # Every junk datagram must be counted, except those the kernel
            # provably dropped at parleyd's socket (its drops column): the
            # shortfalls of the disjoint input classes together, and of each
            # derived counter, may not exceed those drops.  With no kernel
            # drop (the usual case) this is the exact check it always was.
            short = {k: max(0, exp[k] - d[k]) for k in ("dtls_in", "rtp_in", "rtcp_in")}
            short["other_in"] = max(0, exp["other_in_min"] - d["other_in"])
            RES["on_path"][name] = {"via": f"{pair.local_addr} -> {dst}", "sent": n, "send_errors": errs,
                                    "replayed": replays, "counters": d, "expected_at_least": exp,
                                    "kernel_socket_drops": kdrops if k0 is not None else "socket not found",
                                    "snmp_rcvbuf_errors_ns": (snmp1 - snmp0) if None not in (snmp0, snmp1) else None,
                                    "shortfall": short, "settled_s": waited}
            log(f"on-path junk on {name}:", d, "expected", exp, f"kernel drops at the socket {kdrops}, "
                f"shortfall {short}, settled after {waited} s")
            bad = []
            if sum(short.values()) > kdrops:
                bad.append(f"input classes short by {short} (kernel dropped {kdrops})")
            bad += [k for k in ("srtp_errors", "drops") if d[k] < exp[k] - kdrops]
            # RTP on the sub connection is dropped and counted by reason too.
            on_sub = h1["media"]["drops_by_reason"]["on_sub"] - h0["media"]["drops_by_reason"]["on_sub"]
            if on_sub < (exp["drops"] - kdrops if name == "sub" else 0):
                bad.append(f"drops_by_reason.on_sub ({on_sub})")
            if sum(h1["media"]["drops_by_reason"].values()) != h1["media"]["drops"]:
                bad.append(f"drops_by_reason does not add up to drops: {h1['media']}")
            if d["other_in"] > exp["other_in_max"]:
                bad.append("other_in (more than sent)")
            if bad:
                raise Failure(f"on-path junk on {name}: counters {bad} below what was sent: {d}, expected {exp}")
            if d["dtls_failures"]:
                raise Failure(f"on-path DTLS junk failed an association: {d}")
            RES["on_path"][name]["after"] = await still_healthy(srv, a, f"on-path junk on {name}")
        if not RES["on_path"]["pub"]["replayed"]:
            RES["on_path"]["replay_note"] = "no SRTP packet of A captured: replay skipped"

        # ---- 3. peer B: a wrong fingerprint -----------------------------------
        RES["stage"] = "wrong fingerprint"
        h0 = await healthz(srv)
        b = await connect(srv, "B", wrong_fp=True)
        try:
            await b.join(f"echo-{secrets.token_hex(6)}")
            await b.publish()
            end = time.monotonic() + 30
            while True:
                h = await healthz(srv)
                if delta(h, h0, "fingerprint_mismatches") >= 1:
                    break
                if time.monotonic() > end:
                    raise Failure(f"no fingerprint mismatch counted 30 s after B's offer: {deltas(h, h0)}; "
                                  f"B states {b.states}")
                await asyncio.sleep(0.2)
            # what B sees: the server's close_notify closes B's DTLS transport.
            # (aiortc 1.4 keeps the RTCPeerConnection itself "connected" when
            # its DTLS transport is closed, so the transport state is read.)
            dtls = b.owner("pub").sender.transport
            end = time.monotonic() + 10
            while dtls.state not in ("closed", "failed") and time.monotonic() < end:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)           # anything B sent meanwhile went nowhere
            h1 = await healthz(srv)
            d = deltas(h1, h0)
            pub_states = [s for _, s in b.states["pub"]]
            RES["wrong_fingerprint"] = {"counters": d, "B_pub_states": b.states["pub"], "B_sub_states": b.states["sub"],
                                        "B_final": b.conn_states(), "B_pub_dtls_state": dtls.state,
                                        "B_video_frames": b.got["video"],
                                        "B_audio_frames": b.got["audio"], "B_errors": b.errors,
                                        "B_ws_closed": b.ws_closed}
            log("wrong fingerprint:", RES["wrong_fingerprint"])
            if d["fingerprint_mismatches"] != 1:
                raise Failure(f"fingerprint_mismatches +{d['fingerprint_mismatches']}, want +1: {d}")
            if d["dtls_failures"] < 1:
                raise Failure(f"the mismatch is not counted in dtls_failures: {d}")
            if b.got["video"] or b.got["audio"]:
                raise Failure(f"B's media was forwarded despite the wrong fingerprint: {b.got}")
            if dtls.state not in ("closed", "failed"):
                raise Failure(f"B's pub DTLS transport is still '{dtls.state}' 10 s after the server failed "
                              f"the association (no close_notify?)")
            if b.ws_closed:
                raise Failure(f"B's WebSocket was closed: {b.ws_closed}")
            RES["wrong_fingerprint"]["B_pub_ever_connected"] = "connected" in pub_states
        finally:
            await b.close()
        RES["wrong_fingerprint"]["A_after"] = await still_healthy(srv, a, "B's wrong fingerprint")
        RES["A_frames"] = dict(a.got)
        if a.errors:
            raise Failure(f"A got errors from the server: {a.errors}")
        RES["healthz_media_final"] = (await healthz(srv))["media"]
    finally:
        await a.close()


def main():
    code = 1
    srv = None
    try:
        srv = Parleyd().start()
        RES["stage"] = "start"
        asyncio.run(asyncio.wait_for(run(srv), 150))      # < meson's 180 s
        if not srv.alive():
            raise Failure("parleyd died")
        RES["ok"] = True
        code = 0
    except Failure as e:
        RES.update(ok=False, failure=str(e))
    except asyncio.TimeoutError:
        RES.update(ok=False, failure=f"gave up after 150 s in stage '{RES.get('stage')}'")
    except Exception as e:
        RES.update(ok=False, failure=f"{type(e).__name__}: {e}" if str(e) else repr(e))
    finally:
        if srv is not None:
            alive = srv.alive()
            rc = srv.stop()
            RES["parleyd_exit"] = rc
            if code == 0 and (not alive or rc != 0):
                RES.update(ok=False, failure=f"parleyd exited with {rc} on SIGTERM")
                code = 1
            if code != 0:
                srv.dump("media_bad_input failed")
    print(json.dumps(RES, default=str))
    sys.exit(code)


main()
