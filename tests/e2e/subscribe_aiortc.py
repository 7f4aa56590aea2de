#!/usr/bin/python3
"""subscribe_aiortc.py: PROTOCOL.md's optional `subscribe` control, with two
aiortc participants (Debian python3-aiortc) and the real parleyd.

P1 and P2 both publish a VP8 pattern and an Opus tone. Once P2 decodes P1's
video, P2 sends {"type":"subscribe","tracks":[<P1 video>],"enabled":false}:
the reply is `subscribed`, P2's decoded video frames from P1 stop growing
(at most a few in flight) while P1's audio keeps arriving, and GET /stats
shows that forwarded stream `paused`. Then enabled:true: video from P1 is
decoded again within a few seconds (it restarts on a keyframe). Bad requests
get the protocol's errors: unknown or own track -> not_found, malformed
fields -> bad_request. Exit 0 on success, 1 on failure, 77 when aiortc is
missing.
"""
import asyncio, json, os, secrets, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))

try:
    import aiortc  # noqa: F401
    import aiortc_peer as ap
except ImportError as e:   # pragma: no cover
    print(f"SKIP: {e} (apt-get install python3-aiortc python3-websockets; run with /usr/bin/python3)")
    sys.exit(77)

from parleyd import Parleyd

T0 = time.monotonic()


def log(*a):
    print(f"[subscribe_aiortc {time.monotonic() - T0:7.3f}]", *a, file=sys.stderr, flush=True)


def frames(rx, pid, kind):
    st = rx.rx.get((pid, kind))
    return 0 if st is None else st.frames


async def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise ap.Failure(f"timeout after {timeout} s: {what}")


async def expect_error(peer, msg, code):
    mid = peer.next_id
    peer.next_id += 1
    fut = asyncio.get_running_loop().create_future()
    peer.replies[mid] = fut
    await peer.send({**msg, "id": mid})
    reply = await asyncio.wait_for(fut, 10)
    if reply.get("type") != "error" or reply.get("code") != code:
        raise ap.Failure(f"{json.dumps(msg)}: expected error {code}, got {json.dumps(reply)}")
    log("refused as expected:", code, "-", reply.get("message"))


def stats_down(port, sub_pid, track_id):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as r:
        rooms = json.load(r)
    rooms = rooms.get("rooms", rooms) if isinstance(rooms, dict) else rooms
    for room in rooms:
        for part in room.get("participants", []):
            if part.get("id") != sub_pid:
                continue
            for d in part.get("receiving", []):
                if d.get("track") == track_id:
                    return d
    return None


async def run(srv):
    room = f"subscribe-{secrets.token_hex(5)}"
    p1 = ap.Participant("P1", 0, srv.ws_url, 320, 240, 15, log=log)
    p2 = ap.Participant("P2", 1, srv.ws_url, 320, 240, 15, log=log)
    for p in (p1, p2):
        await p.connect()
        await p.join(room)
        await p.publish()
        await p.wait_pub_connected(30)
    await wait_for(lambda: frames(p2, p1.you, "video") >= 10 and frames(p2, p1.you, "audio") >= 25, 60,
                   "P2 decodes P1's video and audio")
    # P1's tracks: in P2's `joined` (published before P2 came) or in
    # `track` events; P1 also hears of its own tracks (docs/protocol.md).
    tracks = [t for q in p2.joined.get("participants", []) if q.get("id") == p1.you
              for t in q.get("tracks", [])]
    tracks += [m["track"] for _, m in p2.events
               if m.get("type") == "track" and m.get("event") == "added" and m.get("participant") == p1.you]
    videos = [t["id"] for t in tracks if t.get("kind") == "video"]
    if not videos:
        raise ap.Failure(f"P2 was never told of P1's video track: {tracks}")
    video = videos[0]
    own = video  # P1's own track: P1 cannot subscribe to it
    log("P1's video track is", video)

    # Malformed and impossible requests.
    await expect_error(p2, {"type": "subscribe", "tracks": [video]}, "bad_request")
    await expect_error(p2, {"type": "subscribe", "tracks": "t-1", "enabled": False}, "bad_request")
    await expect_error(p2, {"type": "subscribe", "tracks": [], "enabled": False}, "bad_request")
    await expect_error(p2, {"type": "subscribe", "tracks": [7], "enabled": False}, "bad_request")
    await expect_error(p2, {"type": "subscribe", "tracks": ["t-nope"], "enabled": False}, "not_found")
    await expect_error(p1, {"type": "subscribe", "tracks": [own], "enabled": False}, "not_found")

    # Pause P1's video for P2.
    r = await p2.request({"type": "subscribe", "tracks": [video], "enabled": False}, "subscribe off", 10)
    if r.get("type") != "subscribed" or r.get("enabled") is not False or r.get("tracks") != [video]:
        raise ap.Failure(f"subscribe off: unexpected reply {json.dumps(r)}")
    # What was in flight drains.  aiortc decodes in worker threads, and on a
    # starved host their backlog can outlast a fixed 1 s; frames decoded from
    # it would count as "arriving while paused".  So wait until P2's video
    # count has not moved for 500 ms (at least the old 1 s, at most 5 s: a
    # count still moving then is video that really keeps coming, and the
    # window below fails on it).
    t_drain = time.monotonic()
    v_last, t_last = frames(p2, p1.you, "video"), t_drain
    while True:
        await asyncio.sleep(0.05)
        now, v = time.monotonic(), frames(p2, p1.you, "video")
        if v != v_last:
            v_last, t_last = v, now
        if (now - t_last >= 0.5 and now - t_drain >= 1.0) or now - t_drain >= 5.0:
            break
    log(f"drained: video count stable for {now - t_last:.2f} s after {now - t_drain:.2f} s")
    v0, a0 = frames(p2, p1.you, "video"), frames(p2, p1.you, "audio")
    await asyncio.sleep(3.0)
    v1, a1 = frames(p2, p1.you, "video"), frames(p2, p1.you, "audio")
    log(f"paused 3 s: video frames {v0} -> {v1}, audio frames {a0} -> {a1}")
    if v1 - v0 > 2:
        raise ap.Failure(f"video kept arriving while unsubscribed: {v0} -> {v1}")
    if a1 - a0 < 50:
        raise ap.Failure(f"audio stopped too: {a0} -> {a1}")
    if frames(p1, p2.you, "video") == 0:
        raise ap.Failure("P1 receives nothing from P2")
    await asyncio.sleep(1.2)  # /stats is refreshed once a second
    d = stats_down(srv.port, p2.you, video)
    if d is None or d.get("paused") is not True:
        raise ap.Failure(f"/stats does not show the stream paused: {d}")

    # Resume: video again, from a keyframe.
    r = await p2.request({"type": "subscribe", "tracks": [video], "enabled": True}, "subscribe on", 10)
    if r.get("type") != "subscribed" or r.get("enabled") is not True:
        raise ap.Failure(f"subscribe on: unexpected reply {json.dumps(r)}")
    t = time.monotonic()
    await wait_for(lambda: frames(p2, p1.you, "video") >= v1 + 10, 15, "P2 decodes P1's video again")
    log(f"resumed: 10 more frames within {time.monotonic() - t:.2f} s")
    for p in (p1, p2):
        if p.failed.is_set():
            raise ap.Failure(f"{p.name}: {p.failure}")
    print(json.dumps({"paused_video_frames": v1 - v0, "paused_audio_frames": a1 - a0,
                      "resume_s": round(time.monotonic() - t, 3)}))
    for p in (p1, p2):
        await p.close()


def main():
    ap.patch_aiortc()
    with Parleyd() as srv:
        try:
            asyncio.run(asyncio.wait_for(run(srv), 150))
        except (ap.Failure, asyncio.TimeoutError) as e:
            log("FAIL:", e)
            srv.dump("failure")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
