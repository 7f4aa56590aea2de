"""kernel_udp.py: the kernel's UDP counters of this network namespace, for
tests that flood a server socket and must tell "the server did not count
it" from "the kernel dropped it before the server could".

A flood can overflow a socket's receive buffer; the kernel then drops
datagrams before the process sees them and counts them in that socket's
`drops` column of /proc/net/udp{,6}.  That per-socket count is what may
excuse a shortfall; the namespace-wide Udp RcvbufErrors of /proc/net/snmp
also moves for other processes' sockets, so it is for logging only.
/proc/net/* is per network namespace: read it from a process in the
server's namespace (e.g. its parent, when it is a child process).
"""


def udp_socket(port):
    """(drops, rx_queue bytes) summed over the UDP sockets bound to `port`
    in this namespace, or None when there is none / /proc is unreadable."""
    drops = rxq = 0
    found = False
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            c = row.split()
            if len(c) < 13 or int(c[1].rsplit(":", 1)[1], 16) != port:
                continue
            found = True
            rxq += int(c[4].split(":")[1], 16)
            drops += int(c[-1])
    return (drops, rxq) if found else None


def snmp_rcvbuf_errors():
    """Udp RcvbufErrors + Udp6RcvbufErrors of this namespace (None if unreadable)."""
    n = None
    try:
        with open("/proc/net/snmp") as f:
            udp = [l.split()[1:] for l in f if l.startswith("Udp:")]
        if len(udp) == 2:
            n = int(dict(zip(udp[0], udp[1])).get("RcvbufErrors", 0))
        with open("/proc/net/snmp6") as f:
            for l in f:
                if l.startswith("Udp6RcvbufErrors"):
                    n = (n or 0) + int(l.split()[1])
    except (OSError, ValueError):
        pass
    return n
