/* codecs/sdp.h: session descriptions (RFC 8866) as data, and the offer/
 * answer rules Parley applies to them (RFC 3264, RFC 8829 JSEP).
 *
 * The model is transparent: a struct pl_sdp is a session, with its media
 * sections in media[0..media_count).  Everything the model points to is
 * owned by it and allocated with malloc(); pl_sdp_destroy() frees the lot.
 * Build or edit a model with the pl_sdp_*_add() and pl_sdp_str_set()
 * helpers (they enforce the same limits the parser does); assign a field
 * directly only with a malloc'd string that the model may free.
 *
 * pl_sdp_parse() is strict: any line it cannot account for fails the whole
 * description with the line's number and a short reason, so a server can
 * answer "bad_request: SDP line 14: bad rtpmap".  Unknown attributes
 * (a=foo or a=foo:bar) are the exception RFC 8866 demands: they are kept in
 * order in attrs[] and written back.  pl_sdp_write() turns a model into
 * CRLF text that pl_sdp_parse() accepts again.
 *
 * pl_sdp_answer_create() and pl_sdp_offer_create() build the server's side
 * of the two peer connections of docs/PROTOCOL.md.
 *
 * Allocation failure aborts (control-plane objects, STYLE.md).  No global
 * state: a model belongs to one thread at a time (the signaling thread).
 */
#ifndef PL_CODECS_SDP_H
#define PL_CODECS_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits.  Exceeding one is PL_ETOOBIG, from the parser and the helpers. */
#define PL_SDP_MAX_BYTES 65536          /* a whole description */
#define PL_SDP_MAX_LINE_BYTES 4096      /* one line, without its CRLF */
#define PL_SDP_MAX_MEDIA 64             /* m= sections */
#define PL_SDP_MAX_FMTS 128             /* formats of one m= line */
#define PL_SDP_MAX_RTPMAPS 128
#define PL_SDP_MAX_FMTPS 128
#define PL_SDP_MAX_RTCP_FBS 512
#define PL_SDP_MAX_EXTMAPS 64
#define PL_SDP_MAX_CANDIDATES 64
#define PL_SDP_MAX_CAND_EXTS 16         /* "generation 0" etc. per candidate */
#define PL_SDP_MAX_SSRCS 256            /* a=ssrc lines */
#define PL_SDP_MAX_SSRC_GROUPS 32
#define PL_SDP_MAX_GROUP_SSRCS 16
#define PL_SDP_MAX_RIDS 16
#define PL_SDP_MAX_SIMULCAST_RIDS 32    /* per direction */
#define PL_SDP_MAX_MSIDS 8
#define PL_SDP_MAX_FINGERPRINTS 8
#define PL_SDP_MAX_ATTRS 128            /* unknown attributes, per level */
#define PL_SDP_MAX_GROUPS 16
#define PL_SDP_MAX_GROUP_MIDS PL_SDP_MAX_MEDIA
#define PL_SDP_MAX_IDS 16               /* msid-semantic identifiers */
#define PL_SDP_MAX_BANDWIDTHS 8
#define PL_SDP_MAX_TIMES 16
#define PL_SDP_MAX_LINES 32             /* kept i= u= e= p= r= z= k= lines */

enum pl_sdp_kind {
	PL_SDP_KIND_OTHER = 0,          /* text, message, anything else */
	PL_SDP_KIND_AUDIO,
	PL_SDP_KIND_VIDEO,
	PL_SDP_KIND_APPLICATION,
};

/* A direction attribute; UNSET when the level has none. */
enum pl_sdp_dir {
	PL_SDP_DIR_UNSET = 0,
	PL_SDP_DIR_SENDRECV,
	PL_SDP_DIR_SENDONLY,
	PL_SDP_DIR_RECVONLY,
	PL_SDP_DIR_INACTIVE,
};

/* a=setup (RFC 4145); UNSET when absent. */
enum pl_sdp_setup {
	PL_SDP_SETUP_UNSET = 0,
	PL_SDP_SETUP_ACTPASS,
	PL_SDP_SETUP_ACTIVE,
	PL_SDP_SETUP_PASSIVE,
	PL_SDP_SETUP_HOLDCONN,
};

/* i=, u=, e=, p=, r=, z= and k= lines, kept verbatim and written back at
 * their place in the grammar. */
struct pl_sdp_line {
	char type;
	char *value;
};

/* c=<nettype> <addrtype> <address>; address NULL when there is no c=. */
struct pl_sdp_conn {
	char *nettype, *addrtype, *address;
};

struct pl_sdp_bandwidth {
	char *type;                     /* "AS", "TIAS", ... */
	uint64_t value;
};

struct pl_sdp_time {
	uint64_t start, stop;
};

/* An attribute the model has no field for: a=name or a=name:value. */
struct pl_sdp_attr {
	char *name;
	char *value;                    /* NULL for a flag */
};

struct pl_sdp_fingerprint {
	char *hash;                     /* "sha-256" */
	char *value;                    /* "AB:CD:..." */
};

/* ICE and DTLS attributes, which may appear at session and media level. */
struct pl_sdp_transport {
	char *ice_ufrag;
	char *ice_pwd;
	char *ice_options;              /* "trickle" ... as written */
	struct pl_sdp_fingerprint *fingerprints;
	size_t fingerprint_count;
	enum pl_sdp_setup setup;
};

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285). */
struct pl_sdp_extmap {
	uint16_t id;                    /* 1-255 */
	enum pl_sdp_dir dir;
	char *uri;
	char *attrs;                    /* NULL: none */
};

/* a=group:<semantics> <mid>... (RFC 5888, RFC 8843). */
struct pl_sdp_group {
	char *semantics;
	char **mids;
	size_t mid_count;
};

struct pl_sdp_cand_ext {
	char *name, *value;
};

/* a=candidate (RFC 8839 section 5.1). */
struct pl_sdp_candidate {
	char *foundation;
	uint16_t component;
	char *transport;                /* "udp", "tcp" as written */
	uint32_t priority;
	char *address;
	uint16_t port;
	char *type;                     /* "host", "srflx", "prflx", "relay" */
	char *raddr;                    /* NULL: none */
	bool has_rport;
	uint16_t rport;
	struct pl_sdp_cand_ext *exts;   /* generation, network-id, tcptype... */
	size_t ext_count;
};

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
struct pl_sdp_rtpmap {
	uint8_t pt;
	char *name;
	uint32_t clock_hz;
	uint16_t channels;              /* 0: not given */
};

/* a=fmtp:<pt> <params> */
struct pl_sdp_fmtp {
	uint8_t pt;
	char *params;
};

/* a=rtcp-fb:<pt|*> <type> [<param>] (RFC 4585) */
struct pl_sdp_rtcp_fb {
	int16_t pt;                     /* -1 for "*" */
	char *type;                     /* "nack", "ccm", "transport-cc" */
	char *param;                    /* "pli", "fir"; NULL: none */
};

/* a=msid:<stream> [<track>] (RFC 8830) */
struct pl_sdp_msid {
	char *stream;
	char *track;                    /* NULL: none */
};

/* a=ssrc:<ssrc> <attr>[:<value>] (RFC 5576) */
struct pl_sdp_ssrc {
	uint32_t ssrc;
	char *attr;
	char *value;                    /* NULL: none */
};

/* a=ssrc-group:<semantics> <ssrc>... ("FID", "SIM", "FEC-FR") */
struct pl_sdp_ssrc_group {
	char *semantics;
	uint32_t *ssrcs;
	size_t ssrc_count;
};

enum pl_sdp_rid_dir {
	PL_SDP_RID_SEND = 1,
	PL_SDP_RID_RECV,
};

/* a=rid:<id> send|recv [<params>] (RFC 8851) */
struct pl_sdp_rid {
	char *id;
	enum pl_sdp_rid_dir dir;
	char *params;                   /* "pt=96;max-width=1280"; NULL: none */
};

/* One rid of a=simulcast (RFC 8853).  Alternatives of one stream share a
 * stream number: "send h,h2;l" is {h,0} {h2,0} {l,1}. */
struct pl_sdp_simulcast_rid {
	char *rid;
	bool paused;                    /* written "~rid" */
	uint16_t stream;
};

struct pl_sdp_simulcast {
	struct pl_sdp_simulcast_rid *send, *recv;
	size_t send_count, recv_count;
};

struct pl_sdp_media {
	char *media;                    /* "audio", "video", "application"... */
	enum pl_sdp_kind kind;          /* from media */
	uint16_t port;
	uint16_t port_count;            /* "/n" after the port; 0: none */
	char *proto;                    /* "UDP/TLS/RTP/SAVPF" */
	char **fmts;
	size_t fmt_count;
	struct pl_sdp_line *lines;      /* i= and k= */
	size_t line_count;
	struct pl_sdp_conn conn;
	struct pl_sdp_bandwidth *bandwidths;
	size_t bandwidth_count;

	char *mid;                      /* NULL: none */
	enum pl_sdp_dir dir;
	bool rtcp_mux, rtcp_rsize, end_of_candidates, extmap_allow_mixed;
	struct pl_sdp_transport tp;
	struct pl_sdp_candidate *candidates;
	size_t candidate_count;
	struct pl_sdp_rtpmap *rtpmaps;
	size_t rtpmap_count;
	struct pl_sdp_fmtp *fmtps;
	size_t fmtp_count;
	struct pl_sdp_rtcp_fb *rtcp_fbs;
	size_t rtcp_fb_count;
	struct pl_sdp_extmap *extmaps;
	size_t extmap_count;
	struct pl_sdp_msid *msids;
	size_t msid_count;
	struct pl_sdp_ssrc *ssrcs;
	size_t ssrc_count;
	struct pl_sdp_ssrc_group *ssrc_groups;
	size_t ssrc_group_count;
	struct pl_sdp_rid *rids;
	size_t rid_count;
	bool has_simulcast;
	struct pl_sdp_simulcast simulcast;
	struct pl_sdp_attr *attrs;      /* unknown, in order */
	size_t attr_count;
};

struct pl_sdp_origin {
	char *username;                 /* "-" */
	uint64_t sess_id;
	uint64_t sess_version;
	char *nettype, *addrtype, *address;
};

struct pl_sdp {
	struct pl_sdp_origin origin;
	char *name;                     /* s=, "-" */
	struct pl_sdp_line *lines;      /* i= u= e= p= r= z= k= */
	size_t line_count;
	struct pl_sdp_conn conn;
	struct pl_sdp_bandwidth *bandwidths;
	size_t bandwidth_count;
	struct pl_sdp_time *times;
	size_t time_count;

	struct pl_sdp_group *groups;
	size_t group_count;
	bool ice_lite, extmap_allow_mixed;
	struct pl_sdp_transport tp;
	enum pl_sdp_dir dir;
	char *msid_semantic;            /* "WMS"; NULL: none */
	char **msid_ids;                /* "*" or stream ids */
	size_t msid_id_count;
	struct pl_sdp_extmap *extmaps;
	size_t extmap_count;
	struct pl_sdp_attr *attrs;      /* unknown, in order */
	size_t attr_count;

	struct pl_sdp_media **media;
	size_t media_count;
};

/* Where and why parsing failed.  line is 1-based, 0 when the failure is
 * not one line's (too many bytes, a missing line).  reason is static
 * text, short enough for an error message. */
struct pl_sdp_error {
	unsigned line;
	const char *reason;
};

/* ---- Model lifecycle and building ---------------------------------------- */

/* An empty session: origin "- 0 0 IN IP4 127.0.0.1", s=-, t=0 0.  Never NULL. */
struct pl_sdp *pl_sdp_create(void);

/* Frees the model and everything it owns.  NULL is a no-op; a half-built
 * model is fine. */
void pl_sdp_destroy(struct pl_sdp *sdp);

/* Replaces *field with a copy of value (NULL clears it). */
void pl_sdp_str_set(char **field, const char *value);

/* Appends a media section with the given m= line head and no formats.
 * Returns NULL when PL_SDP_MAX_MEDIA are already there. */
struct pl_sdp_media *pl_sdp_media_add(struct pl_sdp *sdp, const char *media, uint16_t port,
				      const char *proto);

/* Each helper copies its strings and returns 0 or PL_ETOOBIG (the list is
 * at its limit) or PL_EINVAL (a required string is NULL). */
int pl_sdp_fmt_add(struct pl_sdp_media *m, const char *fmt);
int pl_sdp_rtpmap_add(struct pl_sdp_media *m, uint8_t pt, const char *name, uint32_t clock_hz,
		      uint16_t channels);
int pl_sdp_fmtp_add(struct pl_sdp_media *m, uint8_t pt, const char *params);
int pl_sdp_rtcp_fb_add(struct pl_sdp_media *m, int pt, const char *type, const char *param);
int pl_sdp_extmap_add(struct pl_sdp_extmap **list, size_t *count, uint16_t id, enum pl_sdp_dir dir,
		      const char *uri, const char *attrs);
int pl_sdp_candidate_add(struct pl_sdp_media *m, const struct pl_sdp_candidate *c);
int pl_sdp_msid_add(struct pl_sdp_media *m, const char *stream, const char *track);
int pl_sdp_ssrc_add(struct pl_sdp_media *m, uint32_t ssrc, const char *attr, const char *value);
int pl_sdp_ssrc_group_add(struct pl_sdp_media *m, const char *semantics, const uint32_t *ssrcs,
			  size_t n);
int pl_sdp_rid_add(struct pl_sdp_media *m, const char *id, enum pl_sdp_rid_dir dir,
		   const char *params);
int pl_sdp_simulcast_add(struct pl_sdp_media *m, bool send, const char *rid, bool paused,
			 uint16_t stream);
int pl_sdp_group_add(struct pl_sdp *sdp, const char *semantics, const char *const *mids, size_t n);
int pl_sdp_fingerprint_add(struct pl_sdp_transport *tp, const char *hash, const char *value);
int pl_sdp_attr_add(struct pl_sdp_attr **list, size_t *count, const char *name, const char *value);

/* ---- Lookups -------------------------------------------------------------- */

const struct pl_sdp_rtpmap *pl_sdp_media_rtpmap(const struct pl_sdp_media *m, uint8_t pt);
const struct pl_sdp_fmtp *pl_sdp_media_fmtp(const struct pl_sdp_media *m, uint8_t pt);
struct pl_sdp_media *pl_sdp_media_by_mid(const struct pl_sdp *sdp, const char *mid);
/* The first group with these semantics ("BUNDLE"), or NULL. */
const struct pl_sdp_group *pl_sdp_group_find(const struct pl_sdp *sdp, const char *semantics);

/* Finds key in fmtp parameters "k1=v1;k2=v2" (keys case-insensitive,
 * blanks around ';' allowed).  Returns true with *val, *val_len borrowed
 * from params. */
bool pl_sdp_fmtp_param(const char *params, const char *key, const char **val, size_t *val_len);

/* ---- Text ----------------------------------------------------------------- */

/* Parses text[0..len) (CRLF or LF line ends; the last may be missing) into
 * a new model in *out.  Returns 0; PL_ETOOBIG for a limit (err says which
 * line); PL_EPROTO for anything malformed (err names the line and why).
 * err may be NULL.  On error *out is NULL. */
int pl_sdp_parse(const char *text, size_t len, struct pl_sdp **out, struct pl_sdp_error *err);

/* Serializes sdp as CRLF text into a new NUL-terminated malloc'd *out
 * (length in *out_len, may be NULL).  Returns 0, PL_EINVAL when a field
 * the grammar requires is missing or a string holds CR, LF or NUL, or
 * PL_ETOOBIG past PL_SDP_MAX_BYTES. */
int pl_sdp_write(const struct pl_sdp *sdp, char **out, size_t *out_len);

/* Parses one candidate attribute value, with or without a leading
 * "candidate:" or "a=candidate:" (as trickled in JSON).  *c is owned by
 * the caller: pl_sdp_candidate_release() frees its strings. */
int pl_sdp_candidate_parse(const char *text, size_t len, struct pl_sdp_candidate *c);
void pl_sdp_candidate_release(struct pl_sdp_candidate *c);
/* "candidate:..." text for trickling, malloc'd; NULL for a candidate with
 * missing fields. */
char *pl_sdp_candidate_to_string(const struct pl_sdp_candidate *c);

/* ---- Offer/answer --------------------------------------------------------- */

/* The server's side of a transport: its ICE credentials and its DTLS
 * certificate fingerprint, and the o= line numbers. */
struct pl_sdp_local {
	const char *ice_ufrag;          /* 4-256 ice-chars */
	const char *ice_pwd;            /* 22-256 ice-chars */
	const char *fingerprint_hash;   /* "sha-256" */
	const char *fingerprint;        /* "AB:CD:..." */
	uint64_t sess_id;
	uint64_t sess_version;
};

/* Supported header extensions (docs/PROTOCOL.md). */
#define PL_SDP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define PL_SDP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define PL_SDP_EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define PL_SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define PL_SDP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define PL_SDP_EXT_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

struct pl_sdp_answer_params {
	struct pl_sdp_local local;
	/* What the server may do on this connection; each m-line's direction
	 * is the offer's mirrored, then limited to this.  UNSET: sendrecv.
	 * The pub connection uses RECVONLY. */
	enum pl_sdp_dir dir;
};

/* The remote transport of a BUNDLE: ICE credentials, fingerprint and setup
 * of the m-line with the given mid (NULL: the first mid of sdp's BUNDLE
 * group), media-level attributes taking precedence over session-level
 * ones.  After pl_sdp_answer_create(), pass the first mid of the answer's
 * BUNDLE group: it is the offer's first accepted bundled m-line, whose
 * transport is the one to use even when the offerer (aiortc) gave every
 * m-line its own.  Pointers borrow from sdp.  Returns 0, PL_ENOENT without
 * a BUNDLE group or such an m-line, PL_EPROTO when ufrag, pwd or
 * fingerprint is missing. */
struct pl_sdp_remote {
	const struct pl_sdp_media *media;
	const char *ice_ufrag;
	const char *ice_pwd;
	const char *fingerprint_hash;   /* sha-256 preferred when several */
	const char *fingerprint;
	enum pl_sdp_setup setup;
};

int pl_sdp_bundle_transport(const struct pl_sdp *sdp, const char *mid, struct pl_sdp_remote *out);

/* Builds the answer to a remote offer: Opus/48000/2 (useinbandfec=1) for
 * audio, VP8/90000 with its RTX for video, with the offer's payload types,
 * the rtcp-fb of {nack, nack pli, ccm fir, transport-cc} the offer has,
 * the supported header extensions with the offer's ids (one that an
 * earlier m-line of the answer already gives to another extension is left
 * out, so an id means one extension across the bundle), rids and
 * simulcast mirrored.  An m-line is rejected (port 0) when it is not audio/video over
 * UDP/TLS/RTP/SAVPF, is outside the BUNDLE group, lacks rtcp-mux or offers
 * no supported codec.  setup is passive for actpass/active offers.
 * Returns 0 with *answer, PL_EINVAL for missing params, PL_EUNSUP when the
 * offer has m-lines but no BUNDLE group, PL_EPROTO when the BUNDLE-tagged
 * transport lacks ICE credentials or a fingerprint; err (may be NULL) gets
 * a reason. */
int pl_sdp_answer_create(const struct pl_sdp *offer, const struct pl_sdp_answer_params *p,
			 struct pl_sdp **answer, struct pl_sdp_error *err);

/* One forwarded track of a server offer (the sub connection). */
struct pl_sdp_track {
	enum pl_sdp_kind kind;          /* AUDIO or VIDEO */
	const char *mid;
	const char *stream_id;          /* msid: the participant id */
	const char *track_id;           /* msid: the track id */
	uint32_t ssrc;
	uint32_t rtx_ssrc;              /* video; 0: no RTX stream */
	const char *cname;              /* NULL: the stream id */
	bool active;                    /* false: port 0, inactive, out of BUNDLE */
};

/* Default payload types of server offers. */
#define PL_SDP_PT_OPUS 111
#define PL_SDP_PT_VP8 96
#define PL_SDP_PT_RTX 97

struct pl_sdp_offer_params {
	struct pl_sdp_local local;
	uint8_t opus_pt, vp8_pt, rtx_pt;        /* 0: the defaults above */
};

/* Builds a server offer with one sendonly m-line per track, all active
 * ones in one BUNDLE group, setup:actpass, and header extension ids that
 * are unique across the whole bundle.  An inactive track's m-line gets
 * port 0 and leaves the bundle, except the first m-line (the BUNDLE tag),
 * which stays in the bundle as a=inactive without msid or SSRCs.  Returns 0 with *offer, or PL_EINVAL
 * (a track without mid, ids or a known kind, duplicate mids) or
 * PL_ETOOBIG (more than PL_SDP_MAX_MEDIA tracks). */
int pl_sdp_offer_create(const struct pl_sdp_track *tracks, size_t n,
			const struct pl_sdp_offer_params *p, struct pl_sdp **offer);

#endif
