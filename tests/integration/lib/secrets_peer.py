#!/usr/bin/python3
"""tests/integration/lib/secrets_peer.py: two aiortc participants (the e2e
lib tests/e2e/lib/aiortc_peer.py) join one room with tokens, publish, get
their pub connections up (ICE with STUN checks both ways, DTLS, SRTP) and
decode a little of each other's media, so that parleyd's most verbose log
covers the whole media set-up. Used by secrets_log.mjs.

    secrets_peer.py --url ws://127.0.0.1:PORT/ws --room R --token T1 --token T2

Prints one JSON line on stdout: {"ok": bool, "sdps": [every SDP exchanged],
"decoded": {...}, "failure": str|null}. Exit 0 when ok, 1 on failure, 77
when aiortc is missing.
"""
import argparse, asyncio, json, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e", "lib"))

try:
    import aiortc_peer as ap
except ImportError as e:   # pragma: no cover
    print(f"SKIP: {e}", file=sys.stderr)
    sys.exit(77)


class TokenParticipant(ap.Participant):
    """aiortc_peer.Participant whose join carries a token."""

    def __init__(self, *a, token, **kw):
        super().__init__(*a, **kw)
        self.token = token

    async def join(self, room, timeout=30):
        j = await self.request({"type": "join", "room": room, "display": self.name, "token": self.token},
                               "join", timeout)
        self.you = j["you"]["id"]
        self.joined = j
        return j


async def main(args):
    ap.patch_aiortc()
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.verbose else None
    peers = [TokenParticipant(f"P{i + 1}", i, args.url, token=t, log=log) for i, t in enumerate(args.token)]
    out = {"ok": False, "sdps": [], "decoded": {}, "failure": None}
    try:
        for p in peers:
            await p.connect()
            await p.join(args.room)
        for p in peers:
            await p.publish()
        for p in peers:
            await p.wait_pub_connected(30)
        end = time.monotonic() + args.timeout
        while time.monotonic() < end:
            done = all(any(st.frames >= 3 for st in p.rx.values()) for p in peers)
            if done:
                break
            await asyncio.sleep(0.2)
        out["decoded"] = {p.name: {f"{k[0]}/{k[1]}": st.frames for k, st in p.rx.items()} for p in peers}
        out["ok"] = all(any(st.frames >= 3 for st in p.rx.values()) for p in peers)
        if not out["ok"]:
            out["failure"] = "no media decoded within the timeout"
    except Exception as e:
        out["failure"] = f"{type(e).__name__}: {e}"
    finally:
        for p in peers:
            for s in (getattr(p, "pub_offer_sdp", None), getattr(p, "pub_answer_sdp", None)):
                if s:
                    out["sdps"].append(s)
            for rec in p.sub_offers:
                out["sdps"] += [s for s in (rec.get("sdp"), rec.get("answer_sdp")) if s]
            await p.close()
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    ap_ = argparse.ArgumentParser()
    ap_.add_argument("--url", required=True)
    ap_.add_argument("--room", required=True)
    ap_.add_argument("--token", action="append", required=True)
    ap_.add_argument("--timeout", type=float, default=20)
    ap_.add_argument("--verbose", action="store_true")
    sys.exit(asyncio.run(main(ap_.parse_args())))
