/* client/client_internal.h: what the files of libparley-client share.
 * Not installed, not a public header.
 *
 * Ownership, all on the loop's thread: loop -> clients -> {signaling
 * connection, pub (peer + sent streams), sub (peer + received streams),
 * player}.  Files: client.c (loops, lifecycle, requests),
 * client_reconnect.c (coming back after a lost WebSocket), client_msg.c
 * (incoming protocol messages), client_sig.c (the lws WebSocket),
 * client_peer.c (ICE + DTLS + SRTP of one peer connection), client_sdp.c
 * (pub offer, sub answer), client_pub.c (packetization, NACK/PLI answers,
 * SR), client_sub.c (reception, loss accounting, NACK/RR, depacketizing),
 * client_clip.c (pre-encoded media and its player), client_srtp.c (the
 * SRTP profile choice).
 */
#ifndef PL_CLIENT_INTERNAL_H
#define PL_CLIENT_INTERNAL_H

#include "client/client.h"
#include "client/reorder.h"
#include "media/dtls.h"
#include "media/ice.h"
#include "media/nack.h"
#include "media/rtcp_report.h"
#include "media/srtp.h"
#include "codecs/sdp.h"

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct lws;
struct lws_context;
struct lws_protocols;

#define PL_CLIENT_PKT_CAP 1500          /* a media datagram, before SRTP */
#define PL_CLIENT_RTP_MAX_BYTES 1200    /* our RTP packets, before SRTP */
#define PL_CLIENT_MAX_CANDS 16
#define PL_CLIENT_TICK_MS 20            /* NACKs; reports every 50 ticks */
#define PL_CLIENT_LOSS_WINDOW 1024      /* sequence numbers, a multiple of 64 */

/* ---- loop (client.c) ------------------------------------------------------ */

struct pl_client_loop {
	GMainContext *ctx;
	GMainLoop *gloop;               /* lws's foreign loop; run by our thread */
	GThread *thread;                /* NULL: the application iterates ctx */
	struct lws_context *lws, *lws_tls; /* created by the first ws / wss client */
	struct pl_ice_agent *ice;
	GPtrArray *clients;             /* struct pl_client *, not owning */
	GSource *tick;
	unsigned ticks;
};

/* ---- peer connection (client_peer.c) ------------------------------------- */

struct pl_client_peer {
	struct pl_client *c;
	enum pl_client_pc pc;
	struct pl_ice_transport *ice;
	struct pl_dtls *dtls;
	struct pl_dtls_timer dtls_timer;
	struct pl_srtp *srtp_in, *srtp_out;
	enum pl_srtp_profile profile;
	char *cands[PL_CLIENT_MAX_CANDS]; /* local, "candidate:..." */
	size_t n_cands;
	bool gathering_done;
	bool local_sent;                /* our SDP went out: trickle the rest */
	char *remote_ufrag;
	char *bundle_mid;               /* of our candidates, for trickling */
	bool dtls_started, connected, failed;
	int64_t created_us;
};

struct pl_client_peer *pl_client_peer_create(struct pl_client *c, enum pl_client_pc pc);
void pl_client_peer_destroy(struct pl_client_peer *p);
/* The remote transport of a description: ICE credentials, candidates and
 * the DTLS fingerprint (we are always the DTLS client). */
int pl_client_peer_set_remote(struct pl_client_peer *p, const struct pl_sdp_remote *r);
int pl_client_peer_add_candidate(struct pl_client_peer *p, const char *cand);
/* Writes the local candidates gathered so far into m; later ones trickle. */
void pl_client_peer_fill_candidates(struct pl_client_peer *p, struct pl_sdp_media *m);
/* Protects buf[0..len) (cap bytes of room) in place and sends it.
 * Returns 0, PL_EBUSY (not connected), or an SRTP/ICE error. */
int pl_client_peer_send_rtp(struct pl_client_peer *p, uint8_t *buf, size_t len, size_t cap);
int pl_client_peer_send_rtcp(struct pl_client_peer *p, uint8_t *buf, size_t len, size_t cap);

/* ---- signaling (client_sig.c) ------------------------------------------- */

enum pl_client_sig_state { SIG_IDLE, SIG_CONNECTING, SIG_OPEN, SIG_CLOSED };

struct pl_client_sig {
	enum pl_client_sig_state state;
	struct lws *wsi;
	char host[256], path[512];
	int port;
	bool tls, tls_insecure;
	unsigned idle_timeout_s;        /* see pl_client_config */
	void *idle_policy;              /* lws_retry_bo_t of client_sig.c */
	uint16_t close_code;            /* of the server's close frame, 0: none */
	GQueue out;                     /* queued messages (struct sig_msg *) */
	size_t out_bytes;
	GString *rx;                    /* a message being reassembled */
};

int pl_client_sig_init(struct pl_client_sig *s, const char *url, bool tls_insecure);
void pl_client_sig_release(struct pl_client_sig *s);
int pl_client_sig_connect(struct pl_client *c);
/* Queues one message (takes the reference); PL_ECLOSED once closed. */
int pl_client_sig_send(struct pl_client *c, json_t *msg);
/* The lws protocols of the loop's contexts. */
const struct lws_protocols *pl_client_sig_protocols(void);
/* The loop's lws context for plain or TLS connections, made on first use
 * (on the loop thread); NULL when lws refuses. */
struct lws_context *pl_client_loop_lws(struct pl_client_loop *l, bool tls);

/* client_msg.c: one received protocol message. */
void pl_client_msg_dispatch(struct pl_client *c, json_t *msg);

/* ---- sent streams (client_pub.c) ------------------------------------------ */

struct pl_client_out {
	bool video;
	char mid[4], track[24];
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt, rtx_pt;
	bool rtx_ok;                    /* the server's answer kept RTX */
	uint16_t seq;
	uint32_t ts_base, ts;
	bool has_capture;
	int64_t first_capture_us;
	uint16_t picture_id;
	struct pl_rtx_buf *buf;
	struct pl_rtx_stream rtx;
	struct pl_rtcp_tx_stats tx;
};

struct pl_client_pub {
	struct pl_client_peer *peer;
	bool has_audio, has_video;
	struct pl_client_out audio, video;
	uint32_t offer_req;
	bool offer_sent, answered;
	uint32_t rtcp_ssrc;
};

int pl_client_pub_start(struct pl_client *c, bool audio, bool video);
void pl_client_pub_release(struct pl_client *c);
/* Our offer, once gathering allows (candidates included). */
void pl_client_pub_send_offer(struct pl_client *c);
void pl_client_pub_on_answer(struct pl_client *c, const char *sdp);
void pl_client_pub_on_rtcp(struct pl_client *c, const uint8_t *buf, size_t len);
int pl_client_pub_send_opus(struct pl_client *c, const uint8_t *data, size_t len, uint32_t samples);
int pl_client_pub_send_vp8(struct pl_client *c, const uint8_t *data, size_t len, bool keyframe,
			   int64_t capture_us);
void pl_client_pub_tick(struct pl_client *c, int64_t now_us, bool reports);

/* ---- received streams (client_sub.c) -------------------------------------- */

struct pl_client_in {
	char mid[16], participant[64], track[32];
	bool video, active;
	bool nack_ok;                   /* the offer negotiates generic NACK */
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt, rtx_pt;
	struct pl_rtcp_rx_stats rxs;
	struct pl_nack_rx nack;
	/* Loss after repair: which of the last PL_CLIENT_LOSS_WINDOW
	 * sequence numbers arrived. */
	bool started;
	uint32_t base_ext, max_ext;
	uint64_t seen[PL_CLIENT_LOSS_WINDOW / 64];
	uint64_t packets, bytes, duplicates, rtx, nacked, frames;
	int64_t first_us, last_us;
	/* Video frames (only with a frame callback): a reorder buffer
	 * (client/reorder.h), made at the first packet, and our keyframe
	 * requests (PLI) when it needs a keyframe. */
	struct pl_reorder *reorder;
	struct pl_reorder_pli pli;
};

struct pl_client_sub {
	struct pl_client_peer *peer;
	GPtrArray *streams;             /* struct pl_client_in *, owning */
	uint32_t rev;                   /* of the offer last answered */
	uint32_t rtcp_ssrc;
	struct pl_client_in *last_hit;
	/* Streams replaced by later ones (an m-line reused): totals. */
	uint64_t ended_packets, ended_bytes, ended_expected, ended_lost;
	uint64_t ended_duplicates, ended_rtx, ended_nacked;
	uint64_t plis_sent;             /* about every stream, never reset */
	/* An answer waiting for our candidates. */
	struct pl_sdp *pending_answer;
	uint32_t pending_rev;
	uint32_t answer_req;
	uint64_t srtp_errors;
};

void pl_client_sub_init(struct pl_client_sub *s);
void pl_client_sub_release(struct pl_client_sub *s);
void pl_client_sub_on_offer(struct pl_client *c, uint32_t rev, const char *sdp);
/* Sends the pending answer (gathering done or enough candidates). */
void pl_client_sub_send_answer(struct pl_client *c);
void pl_client_sub_on_rtp(struct pl_client *c, uint8_t *buf, size_t len);
void pl_client_sub_on_rtcp(struct pl_client *c, const uint8_t *buf, size_t len);
void pl_client_sub_tick(struct pl_client *c, int64_t now_us, bool reports);
void pl_client_sub_stream_stats(const struct pl_client_in *in, struct pl_client_stream_stats *st);

/* ---- SDP (client_sdp.c) -------------------------------------------------- */

struct pl_client_sdp_local {
	const char *ufrag, *pwd, *fingerprint;
	uint64_t sess_id, sess_version;
};

/* Our pub offer: sendonly audio (mid 0) and/or video (mid 1, with RTX),
 * BUNDLE, rtcp-mux, setup:actpass.  New model. */
struct pl_sdp *pl_client_sdp_pub_offer(const struct pl_client_pub *pub,
				       const struct pl_client_sdp_local *l);
/* Our answer to a sub offer: every Opus/VP8 m-line accepted recvonly with
 * the offer's mids and payload types, setup:active.  Returns 0 with *out,
 * or the pl_sdp_answer_create() error. */
int pl_client_sdp_sub_answer(const struct pl_sdp *offer, const struct pl_client_sdp_local *l,
			     struct pl_sdp **out);
/* The first m-line of sdp's BUNDLE group (where candidates go), or NULL. */
struct pl_sdp_media *pl_client_sdp_bundle_media(struct pl_sdp *sdp);

/* ---- player (client_clip.c) ---------------------------------------------- */

struct pl_client_player;
void pl_client_player_destroy(struct pl_client_player *p);
void pl_client_player_keyframe(struct pl_client_player *p);
/* The pub connection is up: start sending. */
void pl_client_player_start(struct pl_client_player *p);

/* ---- SRTP profile choice (client_srtp.c) ---------------------------------- */

/* A DTLS identity whose use_srtp offer is limited to the profile(s). */
int pl_client_srtp_cert_generate(enum pl_client_srtp srtp, struct pl_dtls_cert **out);

/* ---- the client (client.c) ------------------------------------------------ */

struct pl_client {
	struct pl_client_loop *loop;
	bool owns_loop;
	bool closing;
	struct pl_client_callbacks cb;
	void *ud;
	enum pl_client_srtp srtp;
	struct pl_dtls_cert *cert;
	struct pl_client_sig sig;
	uint32_t next_req;
	uint32_t join_req;
	/* Reconnect (client_reconnect.c): the join to repeat and the retry state. */
	bool reconnect_off, left, ever_open, reconnecting;
	unsigned rc_min_ms, rc_max_ms, rc_attempt;
	uint32_t reconnects;
	GSource *rc_timer;
	char *rj_room, *rj_display, *rj_token, *rj_user;
	int64_t created_us, join_sent_us, join_us, pub_us, sub_us;
	char *pid, *room;
	uint64_t sess_id, sess_version;
	struct pl_rtcp_ntp_clock ntp;
	struct pl_client_pub pub;
	struct pl_client_sub sub;
	struct pl_client_player *player;
	/* Sent-side counters. */
	uint64_t audio_sent, video_sent, bytes_sent, frames_sent;
	uint64_t nacks_received, retransmits, plis_received;
	uint32_t rtt_ms;
	/* Test impairment (drop_*_pct of the config, as a 32-bit threshold). */
	uint32_t drop_in, drop_out, drop_rng;
	uint64_t dropped_in, dropped_out;
	struct pl_client_impair *impair; /* NULL: no impairment stage */
};

/* True when the impairment stage drops this packet (threshold 0: never). */
bool pl_client_drop(struct pl_client *c, uint32_t threshold);

/* ---- network impairment (client_impair.c over impair.h) ------------------ */

/* Parses spec (pl_client_config.impair) into c->impair; NULL/"" is none.
 * Any thread, before the client is in use.  Returns 0 or PL_EINVAL. */
int pl_client_impair_init(struct pl_client *c, const char *spec);
/* On the loop thread (or before the client ever ran): frees the stages. */
void pl_client_impair_release(struct pl_client *c);
/* A datagram about to leave (out) or just arrived (in) on peer p.  True
 * when the stage took it (queued or dropped); false: handle it now.  A
 * queued datagram later goes to pl_client_peer_xmit / pl_client_peer_recv. */
bool pl_client_impair_out(struct pl_client_peer *p, const uint8_t *buf, size_t len, bool dtls);
bool pl_client_impair_in(struct pl_client_peer *p, const uint8_t *buf, size_t len, bool dtls);
/* p is going away: forget its waiting datagrams. */
void pl_client_impair_forget(struct pl_client_peer *p);
void pl_client_impair_stats(struct pl_client *c, struct pl_client_stats *st);
/* client_peer.c: send on / receive from the network, past the stage. */
void pl_client_peer_xmit(struct pl_client_peer *p, const uint8_t *buf, size_t len);
void pl_client_peer_recv(struct pl_client_peer *p, uint8_t *buf, size_t len);

/* Reconnect (client_reconnect.c): the WebSocket was lost (after
 * `disconnected`); a message arrived (before it is dispatched). */
void pl_client_on_sig_lost(struct pl_client *c);
void pl_client_on_message(struct pl_client *c, const char *type, json_t *msg);
/* Stops a pending retry (leave, destroy); forgets the join to repeat
 * (destroy, or the application sent a new join). */
void pl_client_reconnect_cancel(struct pl_client *c);
void pl_client_rejoin_forget(struct pl_client *c);
/* client.c, on the loop thread: sends a join; one that is not the rejoin
 * (room not c->rj_room) is remembered as the join to repeat.  Returns 0
 * with *req_id (may be NULL) or the sending error. */
int pl_client_join_send(struct pl_client *c, const char *room, const char *display, const char *token,
			const char *user, uint32_t *req_id);
/* client_sig.c: back to SIG_IDLE with nothing queued, for a new connect;
 * pl_client_sig_abort closes the socket without callbacks. */
void pl_client_sig_reset(struct pl_client_sig *s);
void pl_client_sig_abort(struct pl_client_sig *s);
/* client_pub.c: drop the pub connection but keep the tracks (SSRCs,
 * sequence numbers); restart offers them again on a new connection. */
void pl_client_pub_detach(struct pl_client *c);
int pl_client_pub_restart(struct pl_client *c);
/* client_sub.c: drop the sub connection; its streams join the totals. */
void pl_client_sub_reset(struct pl_client *c);

/* The next request id (never 0). */
uint32_t pl_client_next_req(struct pl_client *c);
/* A peer connection finished gathering: send what waited for it. */
void pl_client_on_gathered(struct pl_client *c, enum pl_client_pc pc);
/* A trickled local candidate (NULL: end of candidates). */
void pl_client_on_local_candidate(struct pl_client *c, enum pl_client_pc pc, const char *mid,
				  const char *cand);
/* A peer connection came up (err 0) or failed. */
void pl_client_on_media_state(struct pl_client *c, enum pl_client_pc pc, int err);
void pl_client_sdp_local_fill(struct pl_client *c, struct pl_client_peer *p,
			      struct pl_client_sdp_local *l);

#endif
