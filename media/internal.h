/* media/internal.h: types shared by the files of the media module
 * (media.c, worker.c, peer.c, part.c, router.c).  Not a public header.
 *
 * Ownership, all on one worker thread: worker -> rooms -> participants ->
 * {pub peer, sub peer, published tracks, down tracks}.  A down track is
 * one forwarded stream on a subscriber's sub connection; it points at the
 * published track it carries (same worker, same room), and the track's
 * owner clears those pointers before the track goes away.
 */
#ifndef PL_MEDIA_INTERNAL_H
#define PL_MEDIA_INTERNAL_H

#include "media/dtls.h"
#include "media/keyframe.h"
#include "media/ice.h"
#include "media/media.h"
#include "media/nack.h"
#include "media/rewrite.h"
#include "media/rtcp_report.h"
#include "media/srtp.h"
#include "media/twcc.h"
#include "codecs/sdp.h"
#include "common/queue.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PL_MAX_TRACKS 8       /* published tracks per participant */
#define PL_MAX_DOWN 64        /* m-lines of one sub connection */
#define PL_PKT_CAP 1500       /* bytes of a media datagram we handle */
#define PL_MAX_LOCAL_CANDS 16

struct pl_worker;
struct pl_mpart;
struct pl_mroom;

/* Counters of one worker, written by it alone, read racily by others. */
struct pl_worker_stats {
	_Atomic uint64_t peers, rtp_in, rtcp_in, dtls_in, other_in;
	_Atomic uint64_t rtp_forwarded, rtcp_out, srtp_errors, send_errors;
	_Atomic uint64_t dtls_failures, fingerprint_mismatches, plis_sent, sdp_rejected;
	_Atomic uint64_t nacks_sent, nacks_received, retransmits, rtx_received, twcc_feedbacks;
	/* drops by reason; pl_media_get_stats() adds them up into drops */
	_Atomic uint64_t drops_not_connected, drops_on_sub, drops_malformed, drops_unknown_ssrc;
	_Atomic uint64_t drops_oversize, drops_stale;
};

#define PL_COUNT(w, field) atomic_fetch_add_explicit(&(w)->stats.field, 1, memory_order_relaxed)
/* A dropped packet, counted by its reason (drops_<reason>). */
#define PL_DROP(w, reason) PL_COUNT(w, drops_##reason)

/* ---- peer.c: one peer connection (ICE + DTLS + SRTP) ------------------ */

struct pl_peer {
	struct pl_mpart *part;
	enum pl_media_pc pc;
	struct pl_ice_transport *ice;
	struct pl_dtls *dtls;
	struct pl_dtls_timer dtls_timer;
	struct pl_srtp *srtp_in, *srtp_out;
	bool gathering_done;
	bool remote_set;          /* remote ICE credentials known */
	char *remote_ufrag;
	bool dtls_client;         /* we send the ClientHello */
	bool dtls_started;
	bool connected;           /* DTLS up, SRTP keys in place */
	bool failed;
	char *bundle_mid;         /* the mid our candidates belong to */
	char *cands[PL_MAX_LOCAL_CANDS]; /* every local candidate gathered */
	size_t n_cands;
	bool local_sdp_sent;
};

struct pl_peer *pl_peer_create(struct pl_mpart *part, enum pl_media_pc pc, bool controlling);
void pl_peer_destroy(struct pl_peer *p);
/* Sets the remote transport from a parsed description. */
int pl_peer_set_remote(struct pl_peer *p, const struct pl_sdp_remote *r);
int pl_peer_add_candidate(struct pl_peer *p, const char *cand);
/* True when r carries other ICE credentials than the ones in use. */
bool pl_peer_remote_changed(const struct pl_peer *p, const struct pl_sdp_remote *r);
/* ICE restart: new local credentials, gathering again; DTLS is kept. */
int pl_peer_restart_ice(struct pl_peer *p);
/* Sends an SRTP-protected RTP/RTCP packet built in buf (cap bytes). */
int pl_peer_send_rtp(struct pl_peer *p, uint8_t *buf, size_t len, size_t cap);
int pl_peer_send_rtcp(struct pl_peer *p, uint8_t *buf, size_t len, size_t cap);
/* Writes every local candidate gathered so far into m (the local SDP's
 * first bundled m-line); candidates gathered later are trickled. */
void pl_peer_fill_candidates(struct pl_peer *p, struct pl_sdp_media *m);

/* ---- part.c / router.c: participants, tracks and forwarding ---------- */

struct pl_track {
	char id[16];
	bool video;
	char *mid;
	uint32_t ssrc;            /* 0 until learned */
	uint32_t rtx_ssrc;
	uint8_t pt, rtx_pt;
	bool nack_ok;             /* the publisher negotiated generic NACK */
	bool muted;
	struct pl_mpart *owner;
	struct pl_kf_throttle kf; /* upstream keyframe requests, aggregated */
	/* Loss repair and reports on the publisher's leg. */
	struct pl_rtx_buf *rtx_buf;  /* plaintext packets by incoming seq */
	struct pl_nack_rx nack;      /* losses to NACK upstream */
	struct pl_rtcp_rx_stats rxs; /* for our RR to the publisher */
	/* Counters. */
	uint64_t packets, bytes, rtx_in, nacks_sent, plis, keyframe_gaps;
};

struct pl_down {
	bool used;                /* the m-line slot is taken */
	bool active;              /* carries a live track */
	bool offered_active;      /* active in the last offer sent */
	struct pl_track *src;     /* NULL once the track ended */
	char mid[8];
	char track_id[16];
	char stream_id[24];
	bool video;
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt;
	bool rtx_ok;              /* the subscriber accepted RTX for it */
	/* Rewriting: continuous outgoing seq/ts across source changes. */
	struct pl_rewrite rw;
	struct pl_rtcp_tx_stats tx;  /* for our SR */
	struct pl_rtx_stream rtx;    /* RFC 4588 retransmissions */
	bool waiting_keyframe;    /* video: drop until a keyframe starts */
	bool paused;              /* the subscriber turned it off (subscribe) */
	uint32_t rtt_ms;          /* from the subscriber's RR, 0 = unknown */
	struct { uint16_t seq; int64_t at_us; } resent[16]; /* duplicate NACKs */
	uint8_t resent_next;
	/* Counters. */
	uint64_t packets, bytes, keyframe_drops, nacks_in, retransmits, nacks_refused;
};

struct pl_mpart {
	uint64_t key;
	char *pid;
	struct pl_worker *w;
	struct pl_mroom *room;
	bool can_publish, can_subscribe;
	struct pl_peer *pub, *sub;
	struct pl_track *tracks[PL_MAX_TRACKS];
	size_t n_tracks;
	uint8_t pub_mid_ext;      /* negotiated id of the mid extension, 0: none */
	uint8_t pub_twcc_ext;     /* ... of transport-wide-cc, 0: none */
	struct pl_twcc_rx twcc;   /* feedback for the publisher's BWE */
	uint32_t rtt_ms;          /* latest RTT on the sub leg, 0 = unknown */
	struct pl_down down[PL_MAX_DOWN];
	size_t n_down;            /* slots in use, active or not */
	uint32_t sub_rev;
	bool sub_awaiting_answer;
	bool sub_dirty;           /* tracks changed while an offer was out */
	bool sub_restart;         /* the next sub offer restarts ICE */
	struct pl_sdp *pending_answer; /* pub answer waiting for candidates */
	struct pl_sdp *pending_offer;  /* sub offer waiting for candidates */
	guint local_sdp_timer;
	guint sub_offer_idle;
	uint32_t rtcp_ssrc;       /* our sender SSRC in RTCP feedback */
	uint64_t sess_id, sess_version;
};

struct pl_mroom {
	char *name;
	bool echo;
	GPtrArray *parts;         /* struct pl_mpart * */
};

/* part.c */
void pl_part_on_offer(struct pl_mpart *p, const char *sdp);
void pl_part_on_answer(struct pl_mpart *p, uint32_t rev, const char *sdp);
void pl_part_on_candidate(struct pl_mpart *p, enum pl_media_pc pc, const char *cand);
void pl_part_on_mute(struct pl_mpart *p, const char *track_id, bool muted);
void pl_part_destroy(struct pl_mpart *p);
/* A peer of p finished gathering (or its wait ran out). */
void pl_part_local_sdp_ready(struct pl_mpart *p, enum pl_media_pc pc);
void pl_part_schedule_sub_offer(struct pl_mpart *p);

/* router.c */
void pl_router_on_rtp(struct pl_peer *peer, uint8_t *buf, size_t len);
void pl_router_on_rtcp(struct pl_peer *peer, uint8_t *buf, size_t len);
/* Adds/removes the down tracks of a published track on every subscriber. */
void pl_router_track_added(struct pl_track *t);
/* subscribe enabled:false/true from sub for the track track_id. */
void pl_router_set_paused(struct pl_mpart *sub, const char *track_id, bool paused);
void pl_router_track_removed(struct pl_track *t);
/* A new subscriber receives every track already published in its room. */
void pl_router_attach_existing(struct pl_mpart *sub);
/* Asks the publisher of t for a keyframe (throttled). */
void pl_router_request_keyframe(struct pl_track *t);
/* Track lifecycle on the forwarding side (buffers, loss detector). */
void pl_router_track_init(struct pl_track *t);
void pl_router_track_release(struct pl_track *t);
/* A muted track is unmuted: its down tracks restart cleanly. */
void pl_router_track_unmuted(struct pl_track *t);
/* Periodic RTCP of one participant: NACKs and transport-cc feedback to
 * its publisher (every tick), receiver and sender reports (every second). */
void pl_router_tick(struct pl_mpart *p, int64_t now_us, bool reports);
void pl_router_update_consent(struct pl_mpart *p);
/* feedback.c needs: resend one NACKed packet to a subscriber. */
int pl_router_resend(struct pl_mpart *sub, struct pl_down *d, uint16_t out_seq, int64_t now);

/* ---- worker.c ------------------------------------------------------- */

struct pl_media_cert;

struct pl_worker {
	int index;
	struct pl_media *media;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	struct pl_queue *cmdq;
	GSource *cmd_source;
	struct pl_ice_agent *ice;
	GHashTable *parts;        /* key (uint64) -> struct pl_mpart * */
	GHashTable *rooms;        /* name -> struct pl_mroom * */
	struct pl_worker_stats stats;
	_Atomic int n_parts;
	struct pl_rtcp_ntp_clock ntp; /* wall clock for SR, from the monotonic one */
	GSource *tick;            /* 20 ms: NACK, transport-cc, RTCP reports */
	unsigned ticks;
	GMutex snap_mu;
	char *snapshot;           /* JSON of its rooms, rebuilt every second */
};

/* stats.c: the worker's rooms, participants and tracks as JSON text (a
 * comma-separated list of room objects, or "" when it has none). */
char *pl_worker_snapshot_build(struct pl_worker *w, int64_t now_us);

/* Posts an event to the owner (takes ownership of ev). */
void pl_worker_post(struct pl_worker *w, struct pl_media_event *ev);
void pl_worker_post_error(struct pl_worker *w, uint64_t key, enum pl_media_pc pc, int err,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const struct pl_dtls_cert *pl_worker_cert(const struct pl_worker *w);
size_t pl_worker_max_sdp(const struct pl_worker *w);

#endif
