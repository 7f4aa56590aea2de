/* media/ice.h: the ICE transport interface, implemented with libnice.
 *
 * A pl_ice_agent belongs to one media worker and its GMainContext; it owns
 * the libnice agents of that worker (one per ICE role, since libnice's
 * controlling mode is per agent) and every transport created from it.  A
 * pl_ice_transport is the transport of one peer connection: one libnice
 * stream with one component (BUNDLE + rtcp-mux), full ICE, trickle both
 * ways, ICE restart, and consent freshness in the spirit of RFC 7675: a
 * connected peer that sends nothing at all (no media, RTCP or DTLS) for
 * consent_timeout_ms (30 s) moves the transport to FAILED.
 * Candidates are gathered only on the configured interface addresses
 * (loopback in the embedded default), optionally with a STUN server and a
 * public address mapped over the host candidates (1:1 NAT).
 * Keeping the transport behind this interface lets a single-port UDP mux
 * replace libnice's sockets later without touching its users.
 * Threads: everything here runs on the owning worker's thread; callbacks
 * run from that worker's GMainContext.  Datagrams are delivered without
 * copies or allocation; the buffer is valid during the callback only.
 */
#ifndef PL_MEDIA_ICE_H
#define PL_MEDIA_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_ice_agent;
struct pl_ice_transport;

struct pl_ice_config {
	const char *const *addresses; /* local IPs to gather on; NULL/0 = {"127.0.0.1"} */
	size_t n_addresses;
	const char *stun_host;        /* optional STUN server (IP), NULL = none */
	uint16_t stun_port;
	const char *public_ip;        /* optional 1:1 NAT mapping of host candidates */
	uint16_t port_min, port_max;  /* UDP port range, 0 = any */
	unsigned consent_timeout_ms;  /* no traffic from the peer this long: FAILED; 0 = 30000 */
};

enum pl_ice_state {
	PL_ICE_NEW,
	PL_ICE_CHECKING,
	PL_ICE_CONNECTED,    /* a pair is selected; data flows */
	PL_ICE_DISCONNECTED, /* reserved: consent lost but may recover */
	PL_ICE_FAILED,       /* no pair, or consent expired */
};

struct pl_ice_callbacks {
	/* One received datagram (STUN is consumed by libnice; DTLS, RTP and
	 * RTCP arrive here). */
	void (*recv)(void *ud, uint8_t *buf, size_t len);
	/* A local candidate as an SDP attribute value ("candidate:1 1 udp ...",
	 * without "a="), or NULL when gathering is done. */
	void (*candidate)(void *ud, const char *cand);
	void (*state)(void *ud, enum pl_ice_state st);
};

/* ctx is the worker's GMainContext * (void * to keep GLib out of this
 * header).  Returns 0, PL_EINVAL (bad address), PL_EIO. */
int pl_ice_agent_create(void *ctx, const struct pl_ice_config *cfg, struct pl_ice_agent **out);
/* Destroys every transport still open, then the agent.  NULL is a no-op. */
void pl_ice_agent_destroy(struct pl_ice_agent *a);

/* Creates a transport with fresh local credentials; controlling is our ICE
 * role (true when we made the offer).  Returns 0 or PL_EIO. */
int pl_ice_transport_create(struct pl_ice_agent *a, bool controlling,
			    const struct pl_ice_callbacks *cb, void *ud,
			    struct pl_ice_transport **out);
/* Local credentials, valid until the next restart. */
const char *pl_ice_transport_ufrag(const struct pl_ice_transport *t);
const char *pl_ice_transport_pwd(const struct pl_ice_transport *t);
/* Starts gathering; candidates arrive through cb->candidate. */
int pl_ice_transport_gather(struct pl_ice_transport *t);
/* The peer's credentials (from its SDP); required before checks start.
 * Returns 0 or PL_EINVAL. */
int pl_ice_transport_set_remote(struct pl_ice_transport *t, const char *ufrag, const char *pwd);
/* A remote candidate: the attribute value, with or without "candidate:"
 * prefix handling as in SDP ("candidate:1 1 udp 2122260223 127.0.0.1 50000
 * typ host").  Unsupported (TCP, mDNS .local) candidates return PL_EUNSUP
 * and are ignored.  Returns 0, PL_EINVAL (malformed), PL_EUNSUP. */
int pl_ice_transport_add_remote_candidate(struct pl_ice_transport *t, const char *cand);
/* Sends one datagram on the selected pair.  Returns 0, PL_EBUSY (not
 * connected yet), PL_EIO. */
int pl_ice_transport_send(struct pl_ice_transport *t, const uint8_t *buf, size_t len);
/* ICE restart: new local credentials, remote candidates forgotten; gather
 * again and give the new remote credentials.  Returns 0 or PL_EIO. */
int pl_ice_transport_restart(struct pl_ice_transport *t);
enum pl_ice_state pl_ice_transport_state(const struct pl_ice_transport *t);
/* Whether the peer is expected to send (media or RTCP) on this transport:
 * only then does silence for consent_timeout_ms fail it.  Default true. */
void pl_ice_transport_set_consent_required(struct pl_ice_transport *t, bool required);
/* Counters of one transport. */
struct pl_ice_stats {
	uint64_t packets_in, bytes_in, packets_out, bytes_out, send_errors;
	uint64_t packets_out_direct;    /* of packets_out, sent on the selected
	                                   pair's socket without libnice */
};
void pl_ice_transport_get_stats(const struct pl_ice_transport *t, struct pl_ice_stats *out);
void pl_ice_transport_destroy(struct pl_ice_transport *t);

#endif
