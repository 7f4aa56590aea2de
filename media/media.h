/* media/media.h: the media plane as signaling sees it.
 *
 * pl_media owns the media workers: threads that each run a GMainContext
 * with their ICE agent, DTLS/SRTP state and the rooms pinned to them.  A
 * room lives on one worker, so forwarding never crosses threads.
 * Signaling (one thread, the owner) talks to the workers only through
 * bounded command queues, passing ids and strings, never pointers to its
 * own objects; the workers answer through one event queue whose fd the
 * owner watches.  A participant is named by a 64-bit key the owner picks
 * (its connection id).
 *
 * What workers do with commands: a `pub` offer becomes a peer connection
 * (ICE, DTLS-SRTP) with an answer; each published track is forwarded to
 * every other participant of the room (or, in an echo room, back to its
 * publisher) through their `sub` connection, which the worker (re-)offers
 * whenever the set of tracks it carries changes.
 */
#ifndef PL_MEDIA_MEDIA_H
#define PL_MEDIA_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_media;

struct pl_media_config {
	int workers;                   /* 0 = one per core */
	const char *const *ice_addresses; /* NULL = {"127.0.0.1"} */
	size_t n_ice_addresses;
	const char *stun_host;         /* optional */
	uint16_t stun_port;
	const char *public_ip;         /* optional 1:1 NAT address */
	uint16_t port_min, port_max;   /* 0 = any */
	const char *cert_path;         /* PEM; NULL = data_dir/dtls-cert.pem */
	const char *key_path;          /* PEM; NULL = data_dir/dtls-key.pem */
	const char *data_dir;          /* where a generated certificate is kept */
	size_t max_sdp_bytes;          /* 0 = 65536 */
	const char *srtp_engine;       /* "builtin" (NULL) or "libsrtp" */
};

enum pl_media_pc {
	PL_MEDIA_PC_PUB,
	PL_MEDIA_PC_SUB,
};

enum pl_media_event_type {
	PL_MEDIA_EV_ANSWER,        /* pc pub: sdp answers the last offer */
	PL_MEDIA_EV_OFFER,         /* pc sub: sdp with rev */
	PL_MEDIA_EV_CANDIDATE,     /* cand (NULL = end of candidates), mid */
	PL_MEDIA_EV_ERROR,         /* code + message, for the last request on pc */
	PL_MEDIA_EV_TRACK_ADDED,   /* track_id, kind, mid */
	PL_MEDIA_EV_TRACK_REMOVED, /* track_id */
	PL_MEDIA_EV_STATE,         /* pc connected (err 0) or failed (err < 0) */
};

/* An event from a worker.  Strings are owned by the event;
 * pl_media_event_free() releases it. */
struct pl_media_event {
	enum pl_media_event_type type;
	uint64_t key;
	enum pl_media_pc pc;
	uint32_t rev;
	char *sdp;
	char *cand;
	char *mid;
	int err;                   /* a PL_E* code */
	char *message;
	char *track_id;
	bool video;
};

/* Creates the workers, loads or generates the DTLS certificate.
 * Returns 0, PL_EIO (certificate, ICE), PL_ESYS (threads). */
int pl_media_create(const struct pl_media_config *cfg, struct pl_media **out);
/* Stops and joins every worker, closing all peer connections. */
void pl_media_destroy(struct pl_media *m);

/* Readable when events are waiting. */
int pl_media_event_fd(const struct pl_media *m);
/* The next event, or NULL.  The caller frees it. */
struct pl_media_event *pl_media_event_next(struct pl_media *m);
void pl_media_event_free(struct pl_media_event *ev);

/* "sha-256 AB:CD:..." is the server certificate's fingerprint. */
const char *pl_media_fingerprint(const struct pl_media *m);

/* Commands.  Each returns 0 when queued, PL_EBUSY when the worker's queue
 * is full, PL_ENOENT for an unknown key, PL_EINVAL for bad arguments.
 * Outcomes arrive as events. */
int pl_media_participant_add(struct pl_media *m, uint64_t key, const char *room,
			     const char *pid, bool echo, bool can_publish, bool can_subscribe);
int pl_media_participant_remove(struct pl_media *m, uint64_t key);
int pl_media_offer(struct pl_media *m, uint64_t key, const char *sdp);
int pl_media_answer(struct pl_media *m, uint64_t key, uint32_t rev, const char *sdp);
/* cand NULL: the remote side finished gathering. */
int pl_media_candidate(struct pl_media *m, uint64_t key, enum pl_media_pc pc, const char *cand);
int pl_media_mute(struct pl_media *m, uint64_t key, const char *track_id, bool muted);
/* Subscriber key stops (enabled false) or resumes receiving the track
 * track_id of another participant of its room; the m-line stays. */
int pl_media_subscribe(struct pl_media *m, uint64_t key, const char *track_id, bool enabled);

/* Totals across workers, read racily for logs and /healthz. */
struct pl_media_stats {
	uint64_t peers;
	uint64_t rtp_in, rtcp_in, dtls_in, other_in;
	uint64_t rtp_forwarded, rtcp_out;
	uint64_t srtp_errors, send_errors, drops;
	uint64_t dtls_failures, fingerprint_mismatches;
	uint64_t plis_sent;
	uint64_t sdp_rejected;     /* offers/answers refused (malformed, limits) */
	uint64_t nacks_sent, nacks_received, retransmits, rtx_received, twcc_feedbacks;
	/* drops by reason: RTP/RTCP before DTLS finished, RTP on a sub
	 * connection, unparsable, unknown SSRC, too big to forward, from
	 * before a source switch */
	uint64_t drops_not_connected, drops_on_sub, drops_malformed, drops_unknown_ssrc;
	uint64_t drops_oversize, drops_stale;
};
void pl_media_get_stats(const struct pl_media *m, struct pl_media_stats *out);

/* Every room's participants, published tracks and forwarded streams with
 * their counters, as a JSON array (text, malloc'd; free()).  Each worker
 * refreshes its part once a second, so figures are up to 1 s old. */
char *pl_media_rooms_json(struct pl_media *m);

#endif
