#!/usr/bin/python3
"""capture_aiortc.py: write aiortc's SDP offer (one sendonly audio + one sendonly
video transceiver, aiortc's default codec lists, host candidates on 127.0.0.1
only) for the fixtures in tests/fixtures/sdp/captured.

    /usr/bin/python3 tests/e2e/capture/capture_aiortc.py OUTDIR

aiortc gathers during setLocalDescription, so localDescription already holds
the candidates. Only the loopback patch is applied (aioice skips 127.0.0.1);
aiortc's extmap quirk (id 2 = abs-send-time in video AND ssrc-audio-level in
audio) is deliberately left in: real aiortc clients send it. Also writes
aiortc_answer.sdp when OUTDIR/server_style_offer.sdp exists.
"""
import asyncio, json, os, sys

import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

import aiortc
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "sdp", "captured")


def write(name, sdp):
    # newline="" keeps aiortc's CRLF line endings byte for byte
    with open(os.path.join(out, name), "w", newline="") as f:
        f.write(sdp)


async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))   # None would mean Google STUN
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    write("aiortc_offer.sdp", pc.localDescription.sdp)
    await pc.close()

    server_offer = os.path.join(out, "server_style_offer.sdp")
    if os.path.exists(server_offer):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))   # None would mean Google STUN
        with open(server_offer, newline="") as f:
            await pc.setRemoteDescription(RTCSessionDescription(f.read(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        write("aiortc_answer.sdp", pc.localDescription.sdp)
        # the answerer starts ICE towards the offer's candidate; closing
        # right away makes that task fail noisily, which is harmless here
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: None)
        await pc.close()
    import aioice, av
    print(json.dumps({"aiortc": aiortc.__version__, "aioice": aioice.__version__, "av": av.__version__}))


asyncio.run(main())
