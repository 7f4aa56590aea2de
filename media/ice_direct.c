/* media/ice_direct.c: see media/ice_direct.h. */
#include "media/ice_direct.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

void pl_ice_direct_clear(struct pl_ice_direct *d)
{
	if (d->sock)
		g_object_unref(d->sock);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

void pl_ice_direct_select(struct pl_ice_direct *d, NiceAgent *nice, guint stream, guint component,
			  const NiceCandidate *lc, const NiceCandidate *rc)
{
	GSocket *sock;

	pl_ice_direct_clear(d);
	if (!lc || !rc || lc->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
	    lc->type == NICE_CANDIDATE_TYPE_RELAYED || rc->transport != NICE_CANDIDATE_TRANSPORT_UDP)
		return;
	/* NULL for a relayed pair; the socket libnice receives on otherwise. */
	if (!(sock = nice_agent_get_selected_socket(nice, stream, component)))
		return;
	nice_address_copy_to_sockaddr(&rc->addr, (struct sockaddr *)&d->peer);
	d->peer_len = d->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);
	if (d->peer.ss_family != AF_INET && d->peer.ss_family != AF_INET6) {
		g_object_unref(sock);
		return;
	}
	d->sock = sock;
	d->fd = g_socket_get_fd(sock);
}

int pl_ice_direct_send(const struct pl_ice_direct *d, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (!d->sock)
		return 0;
	do
		n = sendto(d->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&d->peer, d->peer_len);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 1 : PL_EIO;
}
