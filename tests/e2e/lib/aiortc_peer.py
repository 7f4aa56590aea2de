"""tests/e2e/lib/aiortc_peer.py: a Parley participant built on aiortc 1.4
(Debian python3-aiortc) for multi-party end-to-end tests.

    import aiortc_peer as ap
    ap.patch_aiortc()                        # loopback only, unique extmap ids
    p = ap.Participant("P1", index=0, url=ws_url, width=320, height=240, fps=15)
    await p.connect(); await p.join(room); await p.publish(); await p.wait_pub_connected(30)
    ... p.rx[(pid, "video")].frames ...
    await p.close()

Each participant publishes a VP8 test pattern and an Opus tone on `pub`
(client offer; aiortc does not trickle, so its candidates are in the SDP,
followed by `candidate: null`), answers every `sub` offer in order (the
server re-offers with an increasing `rev` as tracks come and go) and decodes
everything it receives, counting per remote participant and kind. The
remote participant of a track is the msid stream id of its m-section in the
sub offer that created it.

So that a receiver can tell whose media it decoded, each sender marks it:
- video: a flat square in the top-left corner whose luma is
  `marker_luma(index)`; the moving parts of the pattern stay clear of it;
- audio: a sine of `tone_hz(index)` Hz.
`RemoteStats` keeps the mean luma of that square in the first decoded
frames and the dominant frequency of about half a second of decoded audio.

Patches (`patch_aiortc`), as echo_aiortc.py applies them:
- aioice gathers on 127.0.0.1 only (it skips loopback by default);
- as offerer aiortc gives extmap id 2 to abs-send-time (video) and to
  ssrc-audio-level (audio) in one BUNDLE; audio-level gets id 3 instead.
"""
import asyncio, fractions, json, math, time

import numpy as np
import av
import websockets
import aioice.ice
import aiortc
import aiortc.codecs
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
from aiortc.sdp import candidate_from_sdp

VIDEO_CLOCK, AUDIO_RATE = 90000, 48000
MARK = (8, 40)            # the marker square: rows and columns 8..39


def patch_aiortc(loopback=True, fix_extmap=True):
    if loopback:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
    if fix_extmap:
        aiortc.codecs.HEADER_EXTENSIONS["audio"][1] = RTCRtpHeaderExtensionParameters(
            id=3, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level")


def marker_luma(index):
    return 32 + 48 * (index % 4)          # 32, 80, 128, 176


def tone_hz(index):
    return 300 + 150 * (index % 8)        # 300, 450, 600, 750, ...


class PatternTrack(MediaStreamTrack):
    """Diagonal luma bands shifting every frame, a bright square moving in
    the right part of the picture, and the sender's flat marker square in the
    top-left corner. yuv420p, paced at `fps`."""
    kind = "video"

    def __init__(self, w, h, fps, index):
        super().__init__()
        self.w, self.h, self.fps, self.n, self.start = w, h, fps, 0, None
        y, x = np.mgrid[0:h, 0:w]
        self.bands = ((x + y) * 2).astype(np.uint8)
        self.chroma = np.full((h // 2, w), 128, np.uint8)
        self.mark = marker_luma(index)

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.n / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        luma = self.bands + np.uint8((self.n * 4) % 256)
        a, b = MARK
        luma[0:b + 8, 0:b + 8] = self.mark        # the marker with a flat margin
        s = max(8, self.h // 6)
        x0 = self.w // 3 + (self.n * 6) % (self.w - self.w // 3 - s)
        y0 = (self.n * 3) % (self.h - s)
        luma[y0:y0 + s, x0:x0 + s] = 235
        frame = av.VideoFrame.from_ndarray(np.vstack([luma, self.chroma]), format="yuv420p")
        frame.pts = int(self.n * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.n += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine of `hz`, 20 ms frames of s16 mono at 48 kHz, paced in real time."""
    kind = "audio"

    def __init__(self, hz):
        super().__init__()
        self.hz, self.n, self.start = hz, 0, None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.n * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        spf = AUDIO_RATE // 50
        t = (np.arange(spf) + self.n * spf) / AUDIO_RATE
        pcm = (6000 * np.sin(2 * math.pi * self.hz * t)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, self.n * spf
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.n += 1
        return frame


def sdp_media(sdp):
    """[{index, kind, port, mid, dir, msid: (stream, track) | None}] of an SDP."""
    out, cur = [], None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind, port = line[2:].split()[:2]
            cur = {"index": len(out), "kind": kind, "port": int(port), "mid": None, "dir": "sendrecv", "msid": None}
            out.append(cur)
        elif cur is not None:
            if line.startswith("a=mid:"):
                cur["mid"] = line[6:].strip()
            elif line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
                cur["dir"] = line[2:]
            elif line.startswith("a=msid:"):
                f = line[7:].split()
                cur["msid"] = (f[0], f[1] if len(f) > 1 else "")
    return out


def dominant_hz(samples, rate):
    x = np.asarray(samples, dtype=np.float64)
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1.0 / rate)[int(np.argmax(spec))])


class RemoteStats:
    """What one participant decoded of one remote participant's track."""

    def __init__(self, pid, kind, mid, rev, t_offer):
        self.pid, self.kind, self.mid, self.rev, self.t_offer = pid, kind, mid, rev, t_offer
        self.frames = 0
        self.t_first = None
        self.t_last = None
        self.sizes = set()
        self.rates = set()
        self.marks = []           # mean luma of the marker square, first frames
        self.luma_std = None
        self.audio = []           # decoded samples (first channel) for the frequency check
        self.audio_skip = 10      # frames skipped before collecting (codec start-up)
        self.hz = None
        self.bad = []

    def summary(self):
        d = {"mid": self.mid, "rev": self.rev, "frames": self.frames,
             "first_after_offer_s": None if self.t_first is None else round(self.t_first - self.t_offer, 3)}
        if self.kind == "video":
            d.update(sizes=sorted(f"{w}x{h}" for w, h in self.sizes),
                     marker_luma=[round(m, 1) for m in self.marks[:3]], luma_std=self.luma_std)
        else:
            d.update(rates=sorted(self.rates), dominant_hz=None if self.hz is None else round(self.hz, 1))
        if self.bad:
            d["bad"] = self.bad[:3]
        return d


class Failure(Exception):
    pass


class Participant:
    """One participant: the WebSocket, `pub` and `sub`. Times are time.monotonic()."""

    def __init__(self, name, index, url, width=320, height=240, fps=15, log=None):
        self.name, self.index, self.url = name, index, url
        self.w, self.h, self.fps = width, height, fps
        self.log = log or (lambda *a: None)
        self.ws = None
        self.next_id = 1
        self.replies = {}
        self.sub_answer_ids = {}
        self.pcs = {}
        self.locks = {"pub": asyncio.Lock(), "sub": asyncio.Lock()}
        self.pending = {"pub": [], "sub": []}
        self.events = []              # server messages that are not replies: (t, msg)
        self.errors = []
        self.sub_offers = []          # {rev, t, t_answered, media}
        self.rx = {}                  # (pid, kind) -> RemoteStats
        self.unmapped_tracks = []
        self.tasks = []
        self.failure = None
        self.failed = asyncio.Event()
        self.pub_connected = asyncio.Event()
        self.changed = asyncio.Event()  # set whenever something was decoded
        self.closing = False
        self.you = None
        self.t = {}

    def note(self, *a):
        self.log(f"{self.name}:", *a)

    def fail(self, why):
        if self.closing:
            return
        if self.failure is None:
            self.failure = why
            self.note("FAILED:", why)
        self.failed.set()

    # -- signaling --------------------------------------------------------

    async def connect(self, timeout=30):
        try:
            self.ws = await asyncio.wait_for(
                websockets.connect(self.url, subprotocols=["parley.v1"], max_size=None), timeout)
        except Exception as e:
            raise Failure(f"{self.name}: WebSocket to {self.url} failed: {e!r}")
        self.tasks.append(asyncio.ensure_future(self.reader()))
        return self.ws.subprotocol

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

    async def reader(self):
        try:
            async for raw in self.ws:
                try:
                    m = json.loads(raw)
                except ValueError:
                    self.note("non-JSON frame", raw[:200])
                    continue
                self.dispatch(m)
        except websockets.ConnectionClosed:
            pass
        self.fail(f"WebSocket closed ({self.ws.close_code} {self.ws.close_reason})")

    def dispatch(self, m):
        if "id" in m and m["id"] in self.replies and m.get("type") != "candidate":
            self.replies.pop(m["id"]).set_result(m)
            return
        t = m.get("type")
        if t == "offer" and m.get("pc") == "sub":
            self.tasks.append(asyncio.ensure_future(self.guard(self.on_sub_offer(m))))
        elif t == "candidate" and m.get("pc") in ("pub", "sub"):
            self.tasks.append(asyncio.ensure_future(self.guard(self.on_candidate(m["pc"], m.get("candidate")))))
        elif t == "error":
            self.note("server error", m)
            self.errors.append(m)
            if m.get("id") in self.sub_answer_ids:
                self.fail(f"sub answer (rev {self.sub_answer_ids[m['id']]}): server replied error "
                          f"{m.get('code')}: {m.get('message')}")
        else:
            self.events.append((time.monotonic(), m))

    async def guard(self, coro):
        try:
            await coro
        except Exception as e:
            self.fail(f"{type(e).__name__}: {e}")

    async def join(self, room, timeout=30):
        j = await self.request({"type": "join", "room": room, "display": self.name}, "join", timeout)
        if j.get("type") != "joined":
            raise Failure(f"{self.name}: join: unexpected reply {json.dumps(j)[:300]}")
        self.you = j["you"]["id"]
        self.joined = j
        self.t["joined"] = time.monotonic()
        self.note("joined", room, "as", self.you)
        return j

    # -- peer connections -------------------------------------------------

    def make_pc(self, name):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))   # None would mean Google's STUN
        self.pcs[name] = pc

        @pc.on("connectionstatechange")
        async def _():
            self.note(name, "connectionState", pc.connectionState)
            if pc.connectionState == "connected":
                self.t.setdefault(f"{name}_connected", time.monotonic())
                if name == "pub":
                    self.pub_connected.set()
            elif pc.connectionState == "failed":
                self.fail(f"{name} connection failed")
        return pc

    async def on_candidate(self, name, cand):
        async with self.locks[name]:
            pc = self.pcs.get(name)
            if pc is None or pc.remoteDescription is None:
                self.pending[name].append(cand)
                return
            await self.add_candidate(name, cand)

    async def add_candidate(self, name, cand):
        pc = self.pcs[name]
        # with BUNDLE only the first transceiver keeps a transport: every
        # candidate goes to it (aiortc ignores one whose sdpMid is bundled)
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

    async def publish(self, timeout=30):
        pc = self.make_pc("pub")
        pc.addTransceiver(ToneTrack(tone_hz(self.index)), direction="sendonly")
        pc.addTransceiver(PatternTrack(self.w, self.h, self.fps, self.index), direction="sendonly")
        async with self.locks["pub"]:
            await pc.setLocalDescription(await pc.createOffer())
        self.pub_offer_sdp = pc.localDescription.sdp
        ans = await self.request({"type": "offer", "pc": "pub", "sdp": pc.localDescription.sdp},
                                 "pub offer", timeout,
                                 then=[{"type": "candidate", "pc": "pub", "candidate": None}])
        if ans.get("type") != "answer" or ans.get("pc") != "pub":
            raise Failure(f"{self.name}: pub offer: unexpected reply {json.dumps(ans)[:300]}")
        self.pub_answer_sdp = ans["sdp"]
        async with self.locks["pub"]:
            await pc.setRemoteDescription(RTCSessionDescription(ans["sdp"], "answer"))
            await self.flush("pub")

    async def wait_pub_connected(self, timeout):
        waits = [asyncio.ensure_future(self.pub_connected.wait()), asyncio.ensure_future(self.failed.wait())]
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        if self.failed.is_set():
            raise Failure(f"{self.name}: {self.failure}")
        if not self.pub_connected.is_set():
            raise Failure(f"{self.name}: pub did not connect within {timeout} s "
                          f"(state {self.pcs['pub'].connectionState})")

    async def on_sub_offer(self, m):
        if self.closing:
            return
        rev = m.get("rev")
        media = sdp_media(m.get("sdp", ""))
        rec = {"rev": rev, "t": time.monotonic(), "t_answered": None, "media": media, "sdp": m.get("sdp")}
        self.sub_offers.append(rec)
        self.note("sub offer rev", rev, " ".join(
            f"{x['kind']}:{x['dir'] if x['port'] else 'port0'}:{x['msid'][0] if x['msid'] else '-'}" for x in media))
        async with self.locks["sub"]:
            if self.closing:
                return
            pc = self.pcs.get("sub")
            first = pc is None
            if first:
                pc = self.make_pc("sub")
                pc.on("track", lambda track: self.on_track(pc, track))
            self.applying = rec
            await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "offer"))
            await self.flush("sub")
            await pc.setLocalDescription(await pc.createAnswer())
        rec["answer_sdp"] = pc.localDescription.sdp
        aid = self.next_id
        self.next_id += 1
        self.sub_answer_ids[aid] = rev
        await self.send({"type": "answer", "pc": "sub", "id": aid, "rev": rev, "sdp": pc.localDescription.sdp})
        rec["t_answered"] = time.monotonic()
        if first:
            await self.send({"type": "candidate", "pc": "sub", "candidate": None})
        self.note("sub answered rev", rev)

    def on_track(self, pc, track):
        tr = next((t for t in pc.getTransceivers() if t.receiver.track is track), None)
        rec = self.applying
        sec = next((x for x in rec["media"] if tr is not None and x["mid"] == tr.mid), None)
        if sec is None or not sec["msid"]:
            self.unmapped_tracks.append({"kind": track.kind, "mid": tr and tr.mid, "rev": rec["rev"]})
            self.note("sub track without msid", track.kind, tr and tr.mid)
            pid = f"?mid={tr and tr.mid}"
        else:
            pid = sec["msid"][0]
        self.note("sub track", track.kind, "mid", tr and tr.mid, "from", pid)
        st = self.rx.get((pid, track.kind))
        if st is not None:
            st.bad.append(f"second {track.kind} track from {pid} (mid {tr and tr.mid})")
        st = self.rx[(pid, track.kind)] = RemoteStats(pid, track.kind, tr and tr.mid, rec["rev"], rec["t"])
        self.tasks.append(asyncio.ensure_future(self.consume(track, st)))

    async def consume(self, track, st):
        while True:
            try:
                frame = await track.recv()
            except Exception:         # MediaStreamError when the track ends
                return
            now = time.monotonic()
            if st.kind == "video":
                if not isinstance(frame, av.VideoFrame) or frame.width <= 0:
                    st.bad.append(repr(frame))
                    continue
                st.sizes.add((frame.width, frame.height))
                if len(st.marks) < 5:
                    # the Y plane as sent (format="gray" would rescale it to full range)
                    luma = frame.to_ndarray(format="yuv420p")[:frame.height]
                    a, b = MARK
                    st.marks.append(float(luma[a:b, a:b].mean()))
                    if st.luma_std is None:
                        st.luma_std = round(float(luma.std()), 1)
            else:
                if not isinstance(frame, av.AudioFrame) or frame.samples <= 0:
                    st.bad.append(repr(frame))
                    continue
                st.rates.add(frame.sample_rate)
                if st.audio_skip > 0:
                    st.audio_skip -= 1
                elif st.hz is None:
                    ch = len(frame.layout.channels)
                    arr = frame.to_ndarray().reshape(-1)
                    st.audio.extend(arr[::ch] if ch > 1 and frame.format.is_packed else arr[:frame.samples])
                    if len(st.audio) >= frame.sample_rate // 2:
                        st.hz = dominant_hz(st.audio, frame.sample_rate)
                        st.audio = []
            st.frames += 1
            st.t_last = now
            if st.t_first is None:
                st.t_first = now
            self.changed.set()

    async def close(self):
        self.closing = True
        try:
            await self.send({"type": "leave"})
        except Exception:
            pass
        for pc in list(self.pcs.values()):
            try:
                await pc.close()
            except Exception:
                pass
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:
                pass
        for t in self.tasks:
            t.cancel()
