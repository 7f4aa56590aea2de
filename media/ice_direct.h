/* media/ice_direct.h: sending on a transport's selected pair without
 * libnice (private to media/ice.c).
 *
 * nice_agent_send() takes the agent's mutex, looks the stream and the
 * component up and goes through GIO for every datagram.  Once libnice has
 * selected a pair whose local side is a plain UDP socket (host, server- or
 * peer-reflexive: not a TURN relay, not TCP), a datagram for the peer is
 * exactly one sendto() on that socket to the remote address, so the media
 * hot path does that itself: no lock, no lookup.  libnice keeps receiving
 * on the socket and keeps the connectivity and consent checks.  A new
 * selected pair (ICE restart, nomination change) replaces the cached one;
 * anything else falls back to nice_agent_send().
 */
#ifndef PL_MEDIA_ICE_DIRECT_H
#define PL_MEDIA_ICE_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <nice/agent.h>

struct pl_ice_direct {
	GSocket *sock;                  /* a reference, NULL: not usable */
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

/* The pair (lc, rc) was selected on stream/component of nice: cache its
 * socket and remote address when it is direct UDP, else clear. */
void pl_ice_direct_select(struct pl_ice_direct *d, NiceAgent *nice, guint stream, guint component,
			  const NiceCandidate *lc, const NiceCandidate *rc);
void pl_ice_direct_clear(struct pl_ice_direct *d);
/* 1: sent whole; 0: no direct path (use libnice); PL_EIO: the send
 * failed (full socket buffer, unreachable). */
int pl_ice_direct_send(const struct pl_ice_direct *d, const uint8_t *buf, size_t len);

#endif
