#!/usr/bin/python3
"""capture_gstreamer.py: write GStreamer webrtcbin's SDP offer (one sendonly Opus
audio + one sendonly VP8 video transceiver, max-bundle, UDP host candidates on
127.0.0.1 only) for the fixtures in tests/fixtures/sdp/captured.

    /usr/bin/python3 tests/e2e/capture/capture_gstreamer.py OUTDIR

The file is webrtcbin's local-description once ICE gathering is complete
(webrtcbin writes the candidates it emits into its local description itself).
Also writes gstreamer_answer.sdp when OUTDIR/server_style_offer.sdp exists.
"""
import ctypes, json, os, re, sys
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "sdp", "captured")
Gst.init(None)


def write(name, sdp):
    with open(os.path.join(out, name), "w", newline="") as f:
        f.write(sdp)


def leak_ref(obj):
    # GStreamer 1.22: the ice-agent getter hands out a borrowed reference and
    # PyGObject's unref would destroy the agent; take one more reference.
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    gobj = ctypes.CDLL("libgobject-2.0.so.0"); gobj.g_object_ref.argtypes = [ctypes.c_void_p]
    gobj.g_object_ref(get(obj.__gpointer__, None))


def make(vpt=96, apt=111):
    pipe = Gst.parse_launch(f"""
      webrtcbin name=w bundle-policy=max-bundle
      videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert !
        vp8enc deadline=1 ! rtpvp8pay pt={vpt} !
        application/x-rtp,media=video,encoding-name=VP8,payload={vpt},clock-rate=90000 ! w.
      audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt={apt} !
        application/x-rtp,media=audio,encoding-name=OPUS,payload={apt},clock-rate=48000 ! w.
    """)
    w = pipe.get_by_name("w")
    ice = w.get_property("ice-agent")
    leak_ref(ice)
    ice.set_property("ice-tcp", False)
    agent = ice.get_property("agent")
    na = Nice.Address(); na.set_from_string("127.0.0.1"); agent.add_local_address(na)
    return pipe, w


def run(role, offer_text=None):
    """Returns the SDP text of webrtcbin's local description after gathering."""
    loop = GLib.MainLoop()
    result = {}
    if offer_text:
        vpt = int(re.search(r"a=rtpmap:(\d+) VP8/90000", offer_text).group(1))
        apt = int(re.search(r"a=rtpmap:(\d+) opus/48000", offer_text, re.I).group(1))
        pipe, w = make(vpt, apt)
    else:
        pipe, w = make()

    def gathered_then_done():
        if w.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return True
        result["sdp"] = w.get_property("local-description").sdp.as_text()
        loop.quit()
        return False

    def on_created(promise, what):
        promise.wait()
        reply = promise.get_reply()
        desc = reply.get_value(what)
        w.emit("set-local-description", desc, Gst.Promise.new())
        GLib.timeout_add(20, gathered_then_done)

    def negotiate(*_):
        if role == "offer":
            for pad in w.sinkpads:          # one transceiver per linked sink pad
                pad.get_property("transceiver").set_property(
                    "direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
            w.emit("create-offer", None, Gst.Promise.new_with_change_func(on_created, "offer"))
        else:
            ok, msg = GstSdp.SDPMessage.new_from_text(offer_text)
            desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, msg)
            def answer(_p):
                GLib.idle_add(lambda: w.emit("create-answer", None,
                                             Gst.Promise.new_with_change_func(on_created, "answer")) and False)
            w.emit("set-remote-description", desc, Gst.Promise.new_with_change_func(answer))
        return False

    if role == "offer":
        w.connect("on-negotiation-needed", lambda _w: GLib.idle_add(negotiate))
    pipe.set_state(Gst.State.PLAYING)
    if role == "answer":
        GLib.idle_add(negotiate)
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    pipe.set_state(Gst.State.NULL)
    if "sdp" not in result:
        sys.exit(f"webrtcbin produced no {role}")
    return result["sdp"]


write("gstreamer_offer.sdp", run("offer"))
server_offer = os.path.join(out, "server_style_offer.sdp")
if os.path.exists(server_offer):
    with open(server_offer, newline="") as f:
        write("gstreamer_answer.sdp", run("answer", f.read()))
print(json.dumps({"gstreamer": Gst.version_string(), "libnice": "0.1.21"}))
