#!/usr/bin/python3
"""group_aiortc.py: four aiortc (Debian python3-aiortc 1.4) participants in one
room of the real parleyd (issue 4, "Proof": the aiortc group call).

The participants (lib/aiortc_peer.py) join one after the other, each
publishing a VP8 test pattern and an Opus tone on `pub` and answering every
`sub` offer; the ones already in the room get re-offers (increasing `rev`)
as the others arrive. Passes when every participant has, for each of the
other three, within --media-timeout s of the last one's pub coming up:
- DECODED at least --min-video av.VideoFrames of the sent size, whose
  marker square has that sender's luma (so the server routed the right
  stream to the right m-line, the one whose msid names the sender), and
- decoded at least --min-audio 48 kHz av.AudioFrames whose dominant
  frequency is that sender's tone;
the active m-lines of its last sub offer are exactly two (audio + video)
per other participant, the revs it got increase, every offer was answered
without an error, and parleyd survives and exits 0 on SIGTERM. aiortc only
does AES_CM_128_HMAC_SHA1_80, so this is AES-CM SRTP.

    PARLEYD=/path/to/parleyd /usr/bin/python3 tests/e2e/group_aiortc.py
    /usr/bin/python3 tests/e2e/group_aiortc.py --url ws://127.0.0.1:8080/ws   (a running server)

Prints one JSON summary line on stdout (figures: time to the first decoded
frame per pair, fps and audio frames/s per pair over --window s); logs on
stderr. Exit 0 on success, 1 on failure, 77 (meson: skipped) when aiortc or
websockets is missing.
"""
import argparse, asyncio, json, os, secrets, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))

try:
    import aiortc
    import aiortc_peer as ap
except ImportError as e:   # pragma: no cover
    print(f"SKIP: {e} (apt-get install python3-aiortc python3-websockets; run with /usr/bin/python3)")
    sys.exit(77)

from parleyd import Parleyd

p = argparse.ArgumentParser()
p.add_argument("--url", help="WebSocket URL of a running server (default: start $PARLEYD)")
p.add_argument("--room", default=None)
p.add_argument("-n", type=int, default=4, help="participants")
p.add_argument("--setup-timeout", type=float, default=30, help="seconds per participant to join, publish and connect pub")
p.add_argument("--media-timeout", type=float, default=90,
               help="seconds from the last pub connected until every pair must have decoded enough")
p.add_argument("--min-video", type=int, default=10)
p.add_argument("--min-audio", type=int, default=25)
p.add_argument("--window", type=float, default=4, help="seconds over which fps are measured")
p.add_argument("--width", type=int, default=320)
p.add_argument("--height", type=int, default=240)
p.add_argument("--fps", type=int, default=15)
p.add_argument("--verbose", action="store_true")
args = p.parse_args()

T0 = time.monotonic()


def log(*a):
    print(f"[group_aiortc {time.monotonic() - T0:7.3f}]", *a, file=sys.stderr, flush=True)


if args.verbose:
    import logging
    logging.basicConfig(level=logging.DEBUG)

ap.patch_aiortc()
RES = {"peer": "aiortc", "aiortc": aiortc.__version__, "n": args.n,
       "video": f"{args.width}x{args.height}@{args.fps}", "stage": "start"}
PEERS = []
MARK_TOL, HZ_TOL = 16, 15


def pair_problems(rx, tx):
    """Why rx has not (yet) received tx well enough ([] when it has)."""
    out = []
    v, a = rx.rx.get((tx.you, "video")), rx.rx.get((tx.you, "audio"))
    if v is None:
        out.append("no video track")
    else:
        if v.frames < args.min_video:
            out.append(f"{v.frames} video frames")
        elif (args.width, args.height) not in v.sizes:
            out.append(f"video sizes {sorted(v.sizes)}")
        elif not v.marks or abs(v.marks[0] - ap.marker_luma(tx.index)) > MARK_TOL:
            out.append(f"marker luma {[round(m) for m in v.marks[:3]]}, {tx.name} sends {ap.marker_luma(tx.index)}")
        elif (v.luma_std or 0) < 5:
            out.append(f"flat picture (luma std {v.luma_std})")
        if v.bad:
            out.append(f"video: {v.bad[:2]}")
    if a is None:
        out.append("no audio track")
    else:
        if a.frames < args.min_audio:
            out.append(f"{a.frames} audio frames")
        elif a.hz is None:
            out.append("audio frequency not measured yet")
        elif abs(a.hz - ap.tone_hz(tx.index)) > HZ_TOL:
            out.append(f"audio at {a.hz:.0f} Hz, {tx.name} sends {ap.tone_hz(tx.index)} Hz")
        elif 48000 not in a.rates:
            out.append(f"audio rates {sorted(a.rates)}")
        if a.bad:
            out.append(f"audio: {a.bad[:2]}")
    return out


def all_problems():
    out = {}
    for rx in PEERS:
        for tx in PEERS:
            if rx is not tx:
                pr = pair_problems(rx, tx)
                if pr:
                    out[f"{tx.name}->{rx.name}"] = pr
    return out


def offers_include(rx, pid):
    """rx has answered a sub offer with an active m-line from participant pid."""
    return any(o["t_answered"] is not None and any(
        m["msid"] and m["msid"][0] == pid and m["port"] != 0 and m["dir"] != "inactive" for m in o["media"])
        for o in rx.sub_offers)


async def wait_offered(earlier, newcomer, timeout):
    """Until each earlier participant answered a sub offer carrying the newcomer's
    tracks: the next arrival then needs a re-offer of its own (parleyd folds
    re-offers together while an answer is outstanding, so arrivals closer than
    an offer/answer round trip could share one)."""
    end = time.monotonic() + timeout
    while not all(offers_include(rx, newcomer.you) for rx in earlier):
        if time.monotonic() > end:
            raise ap.Failure(f"not every earlier participant was offered {newcomer.name}'s tracks within {timeout} s")
        await asyncio.sleep(0.05)


async def run(url):
    room = args.room or f"group-{secrets.token_hex(6)}"
    RES["room"] = room
    for i in range(args.n):
        peer = ap.Participant(f"P{i + 1}", i, url, args.width, args.height, args.fps, log=log)
        PEERS.append(peer)
        RES["stage"] = f"{peer.name} join"
        RES.setdefault("ws_protocol", await peer.connect(args.setup_timeout))
        await peer.join(room, args.setup_timeout)
        RES["stage"] = f"{peer.name} publish"
        await peer.publish(args.setup_timeout)
        await peer.wait_pub_connected(args.setup_timeout)
        log(peer.name, "=", peer.you, "pub connected")
        RES["stage"] = f"{peer.name} offered to the others"
        await wait_offered(PEERS[:-1], peer, args.setup_timeout)
    t_all = time.monotonic()

    RES["stage"] = "media"
    end = t_all + args.media_timeout
    while True:
        failed = [x for x in PEERS if x.failed.is_set()]
        if failed:
            raise ap.Failure("; ".join(f"{x.name}: {x.failure}" for x in failed))
        prob = all_problems()
        if not prob or time.monotonic() > end:
            break
        await asyncio.sleep(0.2)
    RES["all_pairs_s_after_last_pub"] = round(time.monotonic() - t_all, 3)
    if prob:
        raise ap.Failure(f"not every pair decoded within {args.media_timeout} s: {json.dumps(prob)}")

    # fps per pair over a window
    RES["stage"] = "fps window"
    before = {(rx.name, k): (st.frames, time.monotonic()) for rx in PEERS for k, st in rx.rx.items()}
    await asyncio.sleep(args.window)
    pairs = {}
    for rx in PEERS:
        for tx in PEERS:
            if rx is tx:
                continue
            v, a = rx.rx[(tx.you, "video")], rx.rx[(tx.you, "audio")]
            (fv, tv), (fa, ta) = before[(rx.name, (tx.you, "video"))], before[(rx.name, (tx.you, "audio"))]
            now = time.monotonic()
            pairs[f"{tx.name}->{rx.name}"] = {
                "first_frame_after_offer_s": round(v.t_first - v.t_offer, 3),
                "first_frame_after_sender_pub_up_s": round(v.t_first - max(v.t_offer, tx.t["pub_connected"]), 3),
                "first_audio_after_offer_s": round(a.t_first - a.t_offer, 3),
                "fps": round((v.frames - fv) / (now - tv), 1),
                "audio_fps": round((a.frames - fa) / (now - ta), 1),
                "video_frames": v.frames, "audio_frames": a.frames,
                "marker_luma": round(v.marks[0], 1), "dominant_hz": round(a.hz, 1),
                "mid_video": v.mid, "mid_audio": a.mid, "rev": v.rev,
            }
    RES["pairs"] = pairs

    # signaling checks
    RES["stage"] = "checks"
    problems = []
    for rx in PEERS:
        others = sorted(x.you for x in PEERS if x is not rx)
        revs = [o["rev"] for o in rx.sub_offers]
        if not all(isinstance(r, int) for r in revs) or any(b <= a for a, b in zip(revs, revs[1:])):
            problems.append(f"{rx.name}: sub revs do not increase: {revs}")
        if any(o["t_answered"] is None for o in rx.sub_offers):
            problems.append(f"{rx.name}: sub offers not answered: {[o['rev'] for o in rx.sub_offers if not o['t_answered']]}")
        last = rx.sub_offers[-1]["media"] if rx.sub_offers else []
        active = [m for m in last if m["port"] != 0 and m["dir"] != "inactive"]
        got = sorted((m["msid"][0] if m["msid"] else None, m["kind"]) for m in active)
        want = sorted((pid, k) for pid in others for k in ("audio", "video"))
        if got != want:
            problems.append(f"{rx.name}: active sub m-lines {got}, want {want}")
        if any(m["dir"] != "sendonly" for m in active):
            problems.append(f"{rx.name}: active sub m-lines not sendonly: {[m['dir'] for m in active]}")
        if rx.errors:
            problems.append(f"{rx.name}: server errors {rx.errors}")
        if rx.unmapped_tracks:
            problems.append(f"{rx.name}: tracks without msid {rx.unmapped_tracks}")
        extra = [k for k in rx.rx if k[0] not in others]
        if extra:
            problems.append(f"{rx.name}: tracks from unexpected participants {extra}")
    # the first one was re-offered as each of the others arrived
    if len(PEERS[0].sub_offers) < args.n - 1:
        problems.append(f"{PEERS[0].name} got {len(PEERS[0].sub_offers)} sub offers, want >= {args.n - 1} (one per arrival)")
    RES["participants"] = {x.name: {
        "id": x.you,
        "sub_revs": [o["rev"] for o in x.sub_offers],
        "pub_connected_s": round(x.t["pub_connected"] - T0, 3),
        "sub_connected_s": round(x.t["sub_connected"] - T0, 3) if "sub_connected" in x.t else None,
        "events": [f"{m.get('type')}/{m.get('event')}" for _, m in x.events],
    } for x in PEERS}
    if problems:
        raise ap.Failure("; ".join(problems))


async def main_async(url):
    try:
        await asyncio.wait_for(run(url), args.n * args.setup_timeout + args.media_timeout + args.window + 20)
    except asyncio.TimeoutError:
        raise ap.Failure(f"gave up in stage '{RES.get('stage')}'")
    finally:
        if "pairs" not in RES and PEERS and all(x.you for x in PEERS):
            RES["partial"] = {f"{tx.name}->{rx.name}": (rx.rx[(tx.you, 'video')].summary() if (tx.you, 'video') in rx.rx else None,
                                                        rx.rx[(tx.you, 'audio')].summary() if (tx.you, 'audio') in rx.rx else None)
                              for rx in PEERS for tx in PEERS if rx is not tx}
        for x in PEERS:
            await x.close()


def main():
    srv, code = None, 1
    try:
        if args.url:
            url = args.url
        else:
            srv = Parleyd().start()
            url = srv.ws_url
        asyncio.run(main_async(url))
        RES["ok"] = True
        if srv is not None and not srv.alive():
            raise ap.Failure("parleyd died during the call")
        code = 0
    except ap.Failure as e:
        RES.update(ok=False, failure=str(e))
    except Exception as e:
        RES.update(ok=False, failure=f"{type(e).__name__}: {e}" if str(e) else repr(e))
    finally:
        if srv is not None:
            rc = srv.stop()
            RES["parleyd_exit"] = rc
            if code == 0 and rc != 0:
                RES.update(ok=False, failure=f"parleyd exited with {rc} on SIGTERM")
                code = 1
            if code != 0:
                srv.dump("group_aiortc failed")
    if code != 0:
        for x in PEERS:
            for o in x.sub_offers:
                print(f"----- {x.name} sub offer rev {o['rev']} -----\n{o.get('sdp')}\n"
                      f"----- {x.name} sub answer rev {o['rev']} -----\n{o.get('answer_sdp')}", file=sys.stderr)
    # figures, readable
    for k, v in (RES.get("pairs") or {}).items():
        log(f"{k}: first frame {v['first_frame_after_offer_s']} s after offer, {v['fps']} fps, "
            f"{v['audio_fps']} audio frames/s, marker {v['marker_luma']}, {v['dominant_hz']} Hz")
    print(json.dumps(RES, default=str))
    sys.exit(code)


main()
