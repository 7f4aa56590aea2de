/* client/client.h: libparley-client, a native Parley participant.
 *
 * A pl_client is one participant of a parleyd: one WebSocket signaling
 * connection (docs/protocol.md, subprotocol parley.v1) and the two peer
 * connections of the protocol -- `pub`, which this client offers and on
 * which it sends Opus and VP8 frames it is given (already encoded), and
 * `sub`, which the server offers and re-offers (rev) and on which every
 * other participant's tracks arrive.  The media path reuses media/ (libnice
 * ICE as controlling agent on pub, DTLS client, libsrtp) and codecs/ (SDP,
 * VP8 descriptor).  It repairs what it receives (NACK, RTX), reports it
 * (RR), answers the server's NACKs from a retransmission buffer and passes
 * its keyframe requests (PLI, FIR) to the application.  Repair follows
 * the negotiation: NACK where the m-line has `nack` (video, with RTX).
 *
 * Threads.  Clients live on a pl_client_loop: a GLib main context with
 * the WebSocket context, the ICE agent and the clients attached to it.  A
 * loop either runs on its own thread (main_context NULL) or on a
 * GMainContext the application iterates itself.  Every callback runs on
 * the loop's thread.  With an own-thread loop, every function below may be
 * called from any thread: a call from another thread runs on the loop
 * thread and waits for it (so never call one while holding a lock a
 * callback takes).  With an application context, call them only from the
 * thread that iterates that context.  Many clients may share one loop
 * (parley-bench runs hundreds on a few).
 *
 * Ownership.  A loop owns its clients: destroying it destroys them.  A
 * client owns everything it creates.  Strings and buffers passed to
 * callbacks are borrowed for the duration of the call.
 *
 * Errors: 0 or a negative PL_E* code of common/err.h (pl_strerror()).
 */
#ifndef PL_CLIENT_CLIENT_H
#define PL_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_client_loop;
struct pl_client;
struct pl_client_clip;

/* ---- loops ---------------------------------------------------------------- */

struct pl_client_loop_config {
	void *main_context;             /* GMainContext *, or NULL: an own thread */
	const char *ice_address;        /* local IP for ICE; NULL: "127.0.0.1" */
};

/* Returns 0, PL_EIO (ICE agent) or PL_ESYS (thread).  WebSocket contexts
 * (plain, TLS) are made when the first client needs one. */
int pl_client_loop_create(const struct pl_client_loop_config *cfg, struct pl_client_loop **out);
/* Destroys every client of the loop, then stops its thread (if it has one)
 * and frees it.  Call from any thread but the loop's own.  NULL is a no-op. */
void pl_client_loop_destroy(struct pl_client_loop *l);
/* Runs fn(ud) on the loop thread and waits for it to return (directly when
 * called on that thread).  Returns 0. */
int pl_client_loop_call(struct pl_client_loop *l, void (*fn)(void *ud), void *ud);

/* ---- clients -------------------------------------------------------------- */

enum pl_client_kind { PL_CLIENT_AUDIO = 1, PL_CLIENT_VIDEO = 2 };
enum pl_client_change { PL_CLIENT_ADDED = 1, PL_CLIENT_REMOVED, PL_CLIENT_UPDATED };
enum pl_client_pc { PL_CLIENT_PC_PUB = 0, PL_CLIENT_PC_SUB = 1 };
enum pl_client_media_state {
	PL_CLIENT_MEDIA_CONNECTED = 1,  /* ICE and DTLS up: media flows */
	PL_CLIENT_MEDIA_FAILED,         /* ICE failed or DTLS failed */
};
/* The DTLS-SRTP protection profiles this client offers (RFC 5764). */
enum pl_client_srtp {
	PL_CLIENT_SRTP_ANY = 0,         /* AEAD_AES_128_GCM, then AES128_CM_SHA1_80 */
	PL_CLIENT_SRTP_GCM,             /* AEAD_AES_128_GCM only */
	PL_CLIENT_SRTP_CM,              /* AES128_CM_SHA1_80 only */
};

struct pl_client_participant {
	const char *id, *display, *user;
};

enum pl_client_reconnect {
	PL_CLIENT_RECONNECTING = 1,     /* the WebSocket dropped: retrying */
	PL_CLIENT_RECONNECTED,          /* joined again, pub renegotiating */
	PL_CLIENT_RECONNECT_FAILED,     /* the server refused the rejoin */
};

struct pl_client_track {
	const char *participant;        /* publisher's participant id */
	const char *id;
	enum pl_client_kind kind;
	bool muted;
};

struct pl_client_chat_msg {
	uint64_t seq;
	int64_t ts_ms;                  /* server wall clock */
	const char *from_id, *from_user, *from_display;
	const char *to;                 /* NULL: a room message */
	const char *text;
};

/* One depacketized remote frame: a whole VP8 frame (payload descriptors
 * removed) or one Opus packet.  VP8 frames come in order, through a
 * reorder buffer that waits for late (repaired) packets; the first is a
 * keyframe, and after a frame had to be given up none comes until the
 * next keyframe, which the library asks the sender for (RTCP PLI).  Opus
 * packets come as they arrive. */
struct pl_client_frame {
	const char *participant, *track; /* from the sub offer's msid */
	enum pl_client_kind kind;
	const uint8_t *data;
	size_t len;
	uint32_t rtp_ts;
	bool keyframe;
	int64_t arrival_us;             /* monotonic: its last packet, or the end of a wait */
};

/* Every member may be NULL.  c and the ud of the config come first. */
struct pl_client_callbacks {
	/* The WebSocket is open. */
	void (*connected)(struct pl_client *c, void *ud);
	/* The WebSocket closed or could not open; err is PL_ECLOSED or PL_EIO.
	 * Without reconnection, media connections stay up until
	 * pl_client_destroy(); with it (the default, once joined), they are
	 * closed and `reconnect` follows. */
	void (*disconnected)(struct pl_client *c, void *ud, int err);
	/* Again after each reconnection, with the new participant id. */
	void (*joined)(struct pl_client *c, void *ud, const char *room,
		       const struct pl_client_participant *you,
		       const struct pl_client_participant *others, size_t n_others,
		       uint64_t chat_last_seq);
	void (*participant)(struct pl_client *c, void *ud, enum pl_client_change ev,
			    const struct pl_client_participant *p);
	/* Also once per track already published when we joined, and for our
	 * own tracks (participant == pl_client_id()). */
	void (*track)(struct pl_client *c, void *ud, enum pl_client_change ev,
		      const struct pl_client_track *t);
	void (*chat)(struct pl_client *c, void *ud, const struct pl_client_chat_msg *m);
	void (*chat_ack)(struct pl_client *c, void *ud, uint32_t req_id, uint64_t seq, int64_t ts_ms);
	void (*history)(struct pl_client *c, void *ud, uint32_t req_id,
			const struct pl_client_chat_msg *msgs, size_t n, bool more);
	/* A protocol error (code "bad_request", "conflict"...); req_id 0 when
	 * the error answers no request of ours. */
	void (*error)(struct pl_client *c, void *ud, uint32_t req_id, const char *code,
		      const char *message);
	/* srtp_profile: "SRTP_AEAD_AES_128_GCM" or "SRTP_AES128_CM_SHA1_80"
	 * once connected, else NULL. */
	void (*media_state)(struct pl_client *c, void *ud, enum pl_client_pc pc,
			    enum pl_client_media_state st, const char *srtp_profile);
	/* The server asks for a keyframe of our video (PLI or FIR). */
	void (*keyframe_request)(struct pl_client *c, void *ud);
	/* A remote frame; frames are assembled only when this is set. */
	void (*frame)(struct pl_client *c, void *ud, const struct pl_client_frame *f);
	/* Reconnection (see pl_client_config.no_reconnect): RECONNECTING
	 * before each attempt (attempt 1, 2, ..., delay_ms until it starts),
	 * RECONNECTED once the room is joined again (after `joined`), FAILED
	 * when the server refused the rejoin for good (unauthorized,
	 * bad_request, forbidden) or had ended the session for good (token
	 * expired, removed by a moderator: an `error` then the close): the
	 * client then stays disconnected. */
	void (*reconnect)(struct pl_client *c, void *ud, enum pl_client_reconnect ev,
			  unsigned attempt, unsigned delay_ms);
};

struct pl_client_config {
	const char *url;                /* ws://HOST:PORT/ws or wss://... */
	struct pl_client_loop *loop;    /* NULL: a private loop on its own thread */
	const char *ice_address;        /* private loop only; NULL: "127.0.0.1" */
	const struct pl_client_callbacks *cb; /* copied; NULL: no callbacks */
	void *ud;
	enum pl_client_srtp srtp;
	bool tls_insecure;              /* wss: accept any server certificate */
	/* Network impairment of this client's media, both ways (client/
	 * impair.h): "loss=5%,burst=3,delay=50ms,jitter=20ms,rate=1mbit,
	 * seed=N".  Every datagram of pub and sub -- RTP, RTCP and DTLS
	 * ("spare=dtls" leaves the handshake alone) -- passes a send stage
	 * and a receive stage; ICE's STUN stays below it, inside libnice.
	 * NULL or "": none.  A bad spec makes pl_client_create fail with
	 * PL_EINVAL. */
	const char *impair;
	/* Test impairment: the percentage of media packets dropped at random
	 * as they arrive on sub / before they leave on pub (RTCP and DTLS are
	 * spared), to exercise NACK and RTX repair; 0: none. */
	double drop_in_pct, drop_out_pct;
	/* Reconnect.  Once joined, a WebSocket that drops (server restart,
	 * network) is reopened after a backoff of reconnect_min_ms doubling
	 * up to reconnect_max_ms (0: 250 and 5000), each +-25 % at random; the
	 * client joins the same room with the same display/token/user, offers
	 * a new pub with the same tracks and answers the server's new sub.
	 * The server forgets a participant whose socket closes, so both peer
	 * connections are made anew (new ICE and DTLS) and the participant id
	 * changes.  Meanwhile sends return PL_EBUSY (frames are dropped) and
	 * requests PL_ECLOSED.  pl_client_leave() and pl_client_destroy()
	 * never reconnect; no_reconnect turns it off. */
	bool no_reconnect;
	unsigned reconnect_min_ms, reconnect_max_ms;
	/* A network that silently drops everything leaves a TCP connection
	 * open: when nothing valid came from the server for a third of
	 * idle_timeout_s we ping it, and when nothing came for idle_timeout_s
	 * the connection is taken as dead and closed (then reconnected).
	 * 0: 30 s. */
	unsigned idle_timeout_s;
};

/* Creates a client (not connected).  Returns 0, PL_EINVAL (URL), PL_EIO. */
int pl_client_create(const struct pl_client_config *cfg, struct pl_client **out);
/* Closes the connections and frees.  Never from one of c's callbacks.
 * NULL is a no-op. */
void pl_client_destroy(struct pl_client *c);
/* Opens the WebSocket; `connected` or `disconnected` follows.  Requests
 * made before it is open are queued.  Returns 0 or PL_EIO. */
int pl_client_connect(struct pl_client *c);

/* Requests; *req_id (may be NULL) gets the id that the reply (ack,
 * history, error) carries.  They return 0, PL_EINVAL or PL_ECLOSED. */
int pl_client_join(struct pl_client *c, const char *room, const char *display,
		   const char *token, const char *user, uint32_t *req_id);
int pl_client_leave(struct pl_client *c);
int pl_client_chat_send(struct pl_client *c, const char *text, const char *to,
			const char *client_msg_id, uint32_t *req_id);
/* before/after: exclusive seq bounds, 0 for none (not both); limit 1-200. */
int pl_client_chat_history(struct pl_client *c, uint64_t before, uint64_t after, unsigned limit,
			   uint32_t *req_id);

/* Publishes an audio (Opus 48 kHz stereo) and/or a video (VP8) track:
 * gathers, offers `pub`, and once the server answered and the connection
 * is up (media_state) accepts frames.  Once per client.  Returns 0,
 * PL_EEXIST, PL_EINVAL, PL_EIO. */
int pl_client_publish(struct pl_client *c, bool audio, bool video);
/* Sends one Opus packet lasting samples_48k samples (960 for 20 ms).
 * Returns 0, PL_EBUSY (pub not connected: dropped), PL_EINVAL. */
int pl_client_send_opus(struct pl_client *c, const uint8_t *data, size_t len, uint32_t samples_48k);
/* Sends one VP8 frame captured at capture_us (monotonic; 0: now),
 * fragmented into packets of at most 1200 bytes with a picture id.
 * Returns 0, PL_EBUSY, PL_EINVAL. */
int pl_client_send_vp8(struct pl_client *c, const uint8_t *data, size_t len, bool keyframe,
		       int64_t capture_us);

/* ---- statistics ------------------------------------------------------------ */

/* One received stream (an m-line of the sub connection and its SSRC).
 * Loss counts sequence numbers still missing after NACK/RTX repair; a
 * packet counts once however often it arrives. */
struct pl_client_stream_stats {
	char participant[64], track[32], mid[16];
	enum pl_client_kind kind;
	uint32_t ssrc;
	bool active;                    /* in the latest sub offer */
	uint64_t packets, bytes;        /* unique media packets, RTX repairs included */
	uint64_t expected;              /* newest - first sequence number + 1 */
	uint64_t lost;                  /* expected - packets, when positive */
	uint64_t duplicates, rtx, nacked, frames;
	double jitter_ms;               /* RFC 3550 interarrival jitter */
	int64_t first_us, last_us;      /* monotonic arrival of first/newest packet */
	/* Video with a frame callback: frames given up (packets still missing
	 * after the reorder buffer's wait), complete delta frames dropped
	 * while waiting for a keyframe, and our PLIs (keyframe requests). */
	uint64_t frames_incomplete, frames_skipped, plis_sent;
};

/* One direction of the impairment stage (pl_client_config.impair). */
struct pl_client_impair_stats {
	uint64_t packets;               /* datagrams offered to the stage */
	uint64_t delivered, lost, overflow; /* lost: loss model; overflow: queue full */
	uint64_t purged;                /* waiting when their connection closed */
	double delay_mean_ms, delay_max_ms; /* added by the stage, delivered ones */
	uint32_t queued_max;
};

struct pl_client_stats {
	int64_t join_us;                /* join request to `joined`, -1: not yet */
	int64_t pub_us;                 /* publish to pub connected, -1: not yet */
	int64_t sub_us;                 /* first sub offer to sub connected, -1: not yet */
	char pub_srtp[32], sub_srtp[32]; /* negotiated profile, "" until connected */
	/* Sent. */
	uint64_t audio_packets_sent, video_packets_sent, bytes_sent, frames_sent;
	uint64_t nacks_received, retransmits, plis_received;
	uint32_t rtt_ms;                /* pub leg, from the server's RR; 0 unknown */
	/* Received, over every stream ever received (ended ones included). */
	uint64_t packets_received, bytes_received, expected, lost, duplicates, rtx_received;
	uint64_t nacks_sent, srtp_errors;
	uint64_t dropped_in, dropped_out; /* by the test impairment */
	struct pl_client_impair_stats impair_out, impair_in; /* zero without impair */
	size_t n_streams;               /* streams now known, active or not */
	uint32_t reconnects;            /* successful rejoins */
	bool reconnecting;              /* the WebSocket is down, retrying */
	uint64_t plis_sent;             /* keyframe requests about received video */
};

/* Fills *st and up to cap stream entries (streams may be NULL with cap 0);
 * *n (may be NULL) gets the number written. */
void pl_client_get_stats(struct pl_client *c, struct pl_client_stats *st,
			 struct pl_client_stream_stats *streams, size_t cap, size_t *n);
/* Our participant id once joined, else NULL (owned by c). */
const char *pl_client_id(const struct pl_client *c);

/* ---- pre-encoded media (client_clip.c) ------------------------------------- */

/* A few seconds of a synthetic source encoded once (the numbered test
 * pattern in VP8, a tone in Opus), then sent in a loop without encoding. */
struct pl_client_clip_config {
	unsigned width, height, fps;    /* 0: 640, 360, 30 */
	unsigned video_kbps;            /* 0: 1000 */
	unsigned audio_kbps;            /* 0: 32 */
	unsigned seconds;               /* 0: 3 */
	double tone_hz;                 /* 0: 440 */
	bool no_audio, no_video;
};

/* Encodes the clip (about a second of CPU).  Returns 0, PL_EINVAL, PL_EIO
 * (encoder failure).  Immutable afterwards: any thread may read it. */
int pl_client_clip_create(const struct pl_client_clip_config *cfg, struct pl_client_clip **out);
void pl_client_clip_destroy(struct pl_client_clip *clip);
/* Encoded bytes per second of the clip's video and audio. */
void pl_client_clip_bitrates(const struct pl_client_clip *clip, double *video_kbps,
			     double *audio_kbps);

/* Plays clip on c in real time, looping, from when pub connects: Opus
 * every 20 ms, VP8 at the clip's rate; a keyframe request restarts the
 * video at its first frame (a keyframe).  The clip must outlive the
 * playing.  Returns 0 or PL_EINVAL. */
int pl_client_play(struct pl_client *c, const struct pl_client_clip *clip);
void pl_client_stop(struct pl_client *c);

#endif
