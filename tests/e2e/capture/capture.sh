#!/bin/sh
# capture.sh [OUTDIR]: regenerate the SDP fixtures of tests/fixtures/sdp/captured
# with the real stacks (Chromium via playwright-core, aiortc, GStreamer webrtcbin).
#
# Every capture runs in a throw-away network namespace that has only
# 127.0.0.1 (IPv6 off), so each stack gathers loopback host candidates only
# and nothing ever leaves the machine. Needs root (ip netns), node with
# playwright-core in the source root's node_modules, /usr/lib/chromium/chromium,
# /usr/bin/python3 with python3-aiortc, python3-gi + GStreamer 1.22 webrtcbin.
#
# server_style_offer.sdp (hand-written, see the README there) is the offer the
# *_answer.sdp files answer; it is read, never written.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/tests/fixtures/sdp/captured}
ns=parley-sdp-capture-$$

ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT INT TERM
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1

cd "$root"
ip netns exec "$ns" node "$here/capture_chromium.mjs" "$out"
ip netns exec "$ns" /usr/bin/python3 "$here/capture_aiortc.py" "$out"
ip netns exec "$ns" timeout 60 /usr/bin/python3 "$here/capture_gstreamer.py" "$out"
