/* signaling/media_sig.c: the media half of the signaling protocol.
 *
 * Validates offer/answer/candidate/mute messages and passes them to the
 * media workers (media/media.h) by participant key (the connection id);
 * turns the workers' events back into protocol messages: the pub answer,
 * sub offers with their rev, trickled candidates, errors, and `track`
 * events announced to the rest of the room.  The session keeps the list
 * of its published tracks for `joined` and `participant` messages.
 * Runs on the signaling thread.
 */
#include "signaling/internal.h"
#include "media/media.h"
#include "codecs/sdp.h"
#include "common/err.h"
#include "common/log.h"

#include <glib-unix.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define fail(s, id, code, ...) (pl_session_error((s), (id), (code), __VA_ARGS__), (int)(code))
#define OK (-1)

static const char *pc_name(enum pl_media_pc pc)
{
	return pc == PL_MEDIA_PC_PUB ? "pub" : "sub";
}

static bool parse_pc(json_t *v, enum pl_media_pc *pc)
{
	const char *s = json_string_value(v);

	if (s && strcmp(s, "pub") == 0)
		*pc = PL_MEDIA_PC_PUB;
	else if (s && strcmp(s, "sub") == 0)
		*pc = PL_MEDIA_PC_SUB;
	else
		return false;
	return true;
}

/* Maps a worker's error to the protocol's code. */
static enum pl_proto_error error_code(int err)
{
	switch (err) {
	case PL_EEXIST:
	case PL_EBUSY:
		return PL_PROTO_CONFLICT;
	case PL_EIO:
	case PL_ENOMEM:
	case PL_ESYS:
		return PL_PROTO_INTERNAL;
	default:
		return PL_PROTO_BAD_REQUEST;
	}
}

/* The source the client named for the track's m-line in its offer
 * (`sources`), else the default for its kind. */
static const char *track_source(const struct pl_session *s, const struct pl_media_event *ev)
{
	json_t *v = s->pub_sources && ev->mid ? json_object_get(s->pub_sources, ev->mid) : NULL;
	const char *src = json_string_value(v);

	if (src && (!strcmp(src, "microphone") || !strcmp(src, "camera") || !strcmp(src, "screen")))
		return src;
	return ev->video ? "camera" : "microphone";
}

static json_t *track_json(const struct pl_session *s, const struct pl_media_event *ev)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", ev->track_id, "kind",
			 ev->video ? "video" : "audio", "source", track_source(s, ev),
			 "muted", 0, "mid", ev->mid ? ev->mid : "");
}

static void broadcast_track(struct pl_session *s, const char *event, json_t *track)
{
	json_t *msg = json_pack("{s:s, s:s, s:s, s:O}", "type", "track", "event", event,
				"participant", s->pid, "track", track);
	struct pl_outbuf *b = pl_outbuf_from_json(msg);

	json_decref(msg);
	/* The publisher hears of its own tracks too: the ids (matched to its
	 * m-lines by `mid`) are what `mute` names. */
	if (s->room)
		pl_room_broadcast(s->room, b, NULL);
	pl_outbuf_unref(b);
}

static size_t find_track(json_t *tracks, const char *id)
{
	size_t i;
	json_t *t;

	json_array_foreach(tracks, i, t)
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
			return i;
	return (size_t)-1;
}

static void on_track(struct pl_session *s, const struct pl_media_event *ev)
{
	size_t i = find_track(s->tracks, ev->track_id);

	if (ev->type == PL_MEDIA_EV_TRACK_ADDED && i == (size_t)-1) {
		json_t *t = track_json(s, ev);
		json_array_append(s->tracks, t);
		broadcast_track(s, "added", t);
		json_decref(t);
	} else if (ev->type == PL_MEDIA_EV_TRACK_REMOVED && i != (size_t)-1) {
		json_t *t = json_incref(json_array_get(s->tracks, i));
		json_array_remove(s->tracks, i);
		broadcast_track(s, "removed", t);
		json_decref(t);
	}
}

static void on_event(struct pl_server *srv, struct pl_media_event *ev)
{
	struct pl_session *s = pl_server_find_session(srv, ev->key);
	json_t *msg = NULL;

	if (!s || s->state != PL_SESSION_JOINED || !s->in_media)
		return; /* it left; the worker will hear of it */
	switch (ev->type) {
	case PL_MEDIA_EV_ANSWER:
		msg = json_pack("{s:s, s:s, s:s}", "type", "answer", "pc", "pub", "sdp", ev->sdp);
		if (s->pub_req_id)
			json_object_set(msg, "id", s->pub_req_id);
		break;
	case PL_MEDIA_EV_OFFER:
		msg = json_pack("{s:s, s:s, s:I, s:s}", "type", "offer", "pc", "sub", "rev",
				(json_int_t)ev->rev, "sdp", ev->sdp);
		break;
	case PL_MEDIA_EV_CANDIDATE:
		msg = json_pack("{s:s, s:s}", "type", "candidate", "pc", pc_name(ev->pc));
		json_object_set_new(msg, "candidate",
				    ev->cand ? json_pack("{s:s, s:s, s:i}", "candidate", ev->cand, "sdpMid",
							 ev->mid, "sdpMLineIndex", 0)
					     : json_null());
		break;
	case PL_MEDIA_EV_ERROR:
		pl_session_error(s, ev->pc == PL_MEDIA_PC_PUB ? s->pub_req_id : s->sub_req_id,
				 error_code(ev->err), "%s", ev->message ? ev->message : "media error");
		break;
	case PL_MEDIA_EV_TRACK_ADDED:
	case PL_MEDIA_EV_TRACK_REMOVED:
		on_track(s, ev);
		break;
	case PL_MEDIA_EV_STATE:
		PL_LOG(PL_LOG_INFO, "media", "[room=%s p=%s] %s connection %s", s->room->name, s->pid,
		       pc_name(ev->pc), ev->err == 0 ? "up" : pl_strerror(ev->err));
		if (ev->err == PL_EEXPIRED) {
			/* PROTOCOL.md: a participant whose media consent expires
			 * (RFC 7675), or whose ICE never connects, is ended. */
			pl_session_error(s, NULL, PL_PROTO_INTERNAL, "%s media connection lost (ICE consent expired)",
					 pc_name(ev->pc));
			pl_session_close_after_flush(s, PL_CLOSE_MEDIA_LOST);
		}
		break;
	}
	if (msg)
		pl_session_send(s, msg);
}

static gboolean on_media_events(gint fd, GIOCondition cond, gpointer ud)
{
	struct pl_server *srv = ud;
	struct pl_media_event *ev;

	while ((ev = pl_media_event_next(srv->media)) != NULL) {
		on_event(srv, ev);
		pl_media_event_free(ev);
	}
	return G_SOURCE_CONTINUE;
}

int pl_media_sig_start(struct pl_server *srv)
{
	const struct pl_config *cfg = srv->cfg;
	gchar **addrs = g_strsplit(cfg->ice_addresses ? cfg->ice_addresses : "127.0.0.1", ",", -1);
	gchar *stun_host = NULL;
	guint64 stun_port = 0;
	int rc;

	for (gchar **a = addrs; *a; a++)
		g_strstrip(*a);
	if (cfg->stun_server && *cfg->stun_server) {
		const char *colon = strrchr(cfg->stun_server, ':');
		stun_host = colon ? g_strndup(cfg->stun_server, (gsize)(colon - cfg->stun_server))
				  : g_strdup(cfg->stun_server);
		stun_port = colon ? g_ascii_strtoull(colon + 1, NULL, 10) : 3478;
	}
	struct pl_media_config mc = {
		.workers = cfg->media_workers,
		.ice_addresses = (const char *const *)addrs,
		.n_ice_addresses = g_strv_length(addrs),
		.stun_host = stun_host,
		.stun_port = (uint16_t)stun_port,
		.public_ip = cfg->public_ip && *cfg->public_ip ? cfg->public_ip : NULL,
		.port_min = (uint16_t)cfg->rtp_port_min,
		.port_max = (uint16_t)cfg->rtp_port_max,
		.cert_path = cfg->dtls_cert,
		.key_path = cfg->dtls_key,
		.data_dir = cfg->data_dir,
		.max_sdp_bytes = (size_t)cfg->max_sdp_bytes,
		.srtp_engine = cfg->srtp_engine,
	};
	rc = pl_media_create(&mc, &srv->media);
	g_strfreev(addrs);
	g_free(stun_host);
	if (rc < 0) {
		PL_LOG(PL_LOG_ERROR, "media", "cannot start the media workers: %s", pl_strerror(rc));
		return rc;
	}
	srv->media_watch = g_unix_fd_add(pl_media_event_fd(srv->media), G_IO_IN, on_media_events, srv);
	return 0;
}

void pl_media_sig_stop(struct pl_server *srv)
{
	struct pl_media_stats st;

	if (srv->media) {
		pl_media_get_stats(srv->media, &st);
		PL_LOG(PL_LOG_INFO, "media", "totals: rtp in %" PRIu64 ", rtcp in %" PRIu64 ", dtls in %" PRIu64
		       ", forwarded %" PRIu64 ", rtcp out %" PRIu64 ", PLIs %" PRIu64 ", srtp errors %" PRIu64
		       ", send errors %" PRIu64 ", drops %" PRIu64 ", dtls failures %" PRIu64
		       " (fingerprint %" PRIu64 ")",
		       st.rtp_in, st.rtcp_in, st.dtls_in, st.rtp_forwarded, st.rtcp_out, st.plis_sent,
		       st.srtp_errors, st.send_errors, st.drops, st.dtls_failures, st.fingerprint_mismatches);
	}
	if (srv->media_watch)
		g_source_remove(srv->media_watch);
	srv->media_watch = 0;
	pl_media_destroy(srv->media);
	srv->media = NULL;
}

json_t *pl_media_sig_stats_json(const struct pl_server *srv)
{
	struct pl_media_stats st;

	if (!srv->media)
		return json_null();
	pl_media_get_stats(srv->media, &st);
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "peers", (json_int_t)st.peers, "rtp_in", (json_int_t)st.rtp_in,
			 "rtcp_in", (json_int_t)st.rtcp_in, "dtls_in", (json_int_t)st.dtls_in,
			 "other_in", (json_int_t)st.other_in, "rtp_forwarded", (json_int_t)st.rtp_forwarded,
			 "rtcp_out", (json_int_t)st.rtcp_out, "srtp_errors", (json_int_t)st.srtp_errors,
			 "send_errors", (json_int_t)st.send_errors, "drops", (json_int_t)st.drops,
			 "dtls_failures", (json_int_t)st.dtls_failures,
			 "fingerprint_mismatches", (json_int_t)st.fingerprint_mismatches,
			 "plis_sent", (json_int_t)st.plis_sent, "sdp_rejected", (json_int_t)st.sdp_rejected);
	json_object_set_new(o, "nacks_sent", json_integer((json_int_t)st.nacks_sent));
	json_object_set_new(o, "nacks_received", json_integer((json_int_t)st.nacks_received));
	json_object_set_new(o, "retransmits", json_integer((json_int_t)st.retransmits));
	json_object_set_new(o, "rtx_received", json_integer((json_int_t)st.rtx_received));
	json_object_set_new(o, "twcc_feedbacks", json_integer((json_int_t)st.twcc_feedbacks));
	json_object_set_new(o, "drops_by_reason",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
				      "not_connected", (json_int_t)st.drops_not_connected,
				      "on_sub", (json_int_t)st.drops_on_sub,
				      "malformed", (json_int_t)st.drops_malformed,
				      "unknown_ssrc", (json_int_t)st.drops_unknown_ssrc,
				      "oversize", (json_int_t)st.drops_oversize,
				      "stale", (json_int_t)st.drops_stale));
	return o;
}

char *pl_media_sig_rooms_json(struct pl_server *srv)
{
	return srv->media ? pl_media_rooms_json(srv->media) : NULL;
}

json_t *pl_media_sig_ice_servers(const struct pl_server *srv)
{
	const char *stun = srv->cfg->stun_server;

	if (!stun || !*stun)
		return json_array();
	return json_pack("[{s:[s+]}]", "urls", "stun:", stun);
}

void pl_media_sig_join(struct pl_session *s)
{
	bool pub = !s->has_claims || s->claims.publish;
	bool sub = !s->has_claims || s->claims.subscribe;
	int rc = pl_media_participant_add(s->srv->media, s->id, s->room->name, s->pid,
					  g_str_has_prefix(s->room->name, "echo-"), pub, sub);

	s->in_media = rc == 0;
	if (rc < 0)
		PL_LOG(PL_LOG_ERROR, "media", "[room=%s p=%s] not registered with the media workers: %s",
		       s->room->name, s->pid, pl_strerror(rc));
}

void pl_media_sig_leave(struct pl_session *s)
{
	size_t i;
	json_t *t;

	if (s->in_media)
		pl_media_participant_remove(s->srv->media, s->id);
	s->in_media = false;
	if (!s->srv->shutting_down)
		json_array_foreach(s->tracks, i, t)
			broadcast_track(s, "removed", t);
	json_array_clear(s->tracks);
}

static int media_rc(struct pl_session *s, json_t *id, int rc)
{
	if (rc == 0)
		return OK;
	if (rc == PL_EBUSY) {
		s->srv->stats.rate_limited++;
		return fail(s, id, PL_PROTO_RATE_LIMITED, "media worker busy, try again");
	}
	return fail(s, id, PL_PROTO_INTERNAL, "media: %s", pl_strerror(rc));
}

static int check_joined(struct pl_session *s, json_t *id)
{
	if (s->state != PL_SESSION_JOINED)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "not in a room");
	if (!s->in_media)
		return fail(s, id, PL_PROTO_INTERNAL, "media is unavailable");
	return OK;
}

static int check_sdp(struct pl_session *s, json_t *id, json_t *sdp)
{
	if (!json_is_string(sdp) || json_string_length(sdp) == 0)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'sdp' must be a non-empty string");
	if (json_string_length(sdp) > (size_t)s->srv->cfg->max_sdp_bytes) {
		s->srv->stats.sdp_too_large++;
		return fail(s, id, PL_PROTO_BAD_REQUEST, "SDP larger than %d bytes", s->srv->cfg->max_sdp_bytes);
	}
	return OK;
}

/* m= lines of an SDP (each starts a line).  A pub offer's m-lines are the
 * tracks one participant may publish, and every one of them costs every
 * subscriber an m-line, so they are capped (limits.max_sdp_mlines) before
 * the worker parses anything. */
static unsigned count_mlines(const char *sdp)
{
	unsigned n = strncmp(sdp, "m=", 2) == 0;

	for (const char *p = sdp; (p = strstr(p, "\nm=")) != NULL; p += 3)
		n++;
	return n;
}

int pl_media_sig_offer(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *sdp = json_object_get(msg, "sdp");
	enum pl_media_pc pc;
	int rc;

	if ((rc = check_joined(s, id)) != OK)
		return rc;
	if (!parse_pc(json_object_get(msg, "pc"), &pc) || pc != PL_MEDIA_PC_PUB)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'pc' must be \"pub\" in an offer");
	if ((rc = check_sdp(s, id, sdp)) != OK)
		return rc;
	if (s->has_claims && !s->claims.publish) {
		s->srv->stats.forbidden++;
		return fail(s, id, PL_PROTO_FORBIDDEN, "this token does not allow publishing");
	}
	/* Past the parser's own cap the worker refuses the offer and names
	 * the offending line, which says more than a count. */
	unsigned n_m = count_mlines(json_string_value(sdp));
	if (n_m > (unsigned)s->srv->cfg->limits.max_sdp_mlines && n_m <= PL_SDP_MAX_MEDIA) {
		s->srv->stats.sdp_too_many_mlines++;
		return fail(s, id, PL_PROTO_BAD_REQUEST, "SDP has %u m-lines, at most %d are accepted", n_m,
			    s->srv->cfg->limits.max_sdp_mlines);
	}
	json_t *sources = json_object_get(msg, "sources");
	if (sources && !json_is_object(sources))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'sources' must be an object of mid -> source");
	json_decref(s->pub_sources);
	s->pub_sources = sources ? json_incref(sources) : NULL;
	json_decref(s->pub_req_id);
	s->pub_req_id = id ? json_incref(id) : NULL;
	return media_rc(s, id, pl_media_offer(s->srv->media, s->id, json_string_value(sdp)));
}

int pl_media_sig_answer(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *sdp = json_object_get(msg, "sdp"), *rev = json_object_get(msg, "rev");
	enum pl_media_pc pc;
	int rc;

	if ((rc = check_joined(s, id)) != OK)
		return rc;
	if (!parse_pc(json_object_get(msg, "pc"), &pc) || pc != PL_MEDIA_PC_SUB)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'pc' must be \"sub\" in an answer");
	if (!json_is_integer(rev) || json_integer_value(rev) < 1 || json_integer_value(rev) > UINT32_MAX)
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'rev' must be a positive integer");
	if ((rc = check_sdp(s, id, sdp)) != OK)
		return rc;
	json_decref(s->sub_req_id);
	s->sub_req_id = id ? json_incref(id) : NULL;
	return media_rc(s, id, pl_media_answer(s->srv->media, s->id, (uint32_t)json_integer_value(rev),
					       json_string_value(sdp)));
}

int pl_media_sig_candidate(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *c = json_object_get(msg, "candidate"), *line;
	enum pl_media_pc pc;
	int rc;

	if ((rc = check_joined(s, id)) != OK)
		return rc;
	if (!parse_pc(json_object_get(msg, "pc"), &pc))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "field 'pc' must be \"pub\" or \"sub\"");
	if (json_is_null(c))
		return media_rc(s, id, pl_media_candidate(s->srv->media, s->id, pc, NULL));
	line = json_object_get(c, "candidate");
	if (!json_is_object(c) || !json_is_string(line) || json_string_length(line) > 1024)
		return fail(s, id, PL_PROTO_BAD_REQUEST,
			    "field 'candidate' must be null or an object with a string 'candidate'");
	/* Browsers signal the end of gathering with an empty candidate. */
	return media_rc(s, id, pl_media_candidate(s->srv->media, s->id, pc,
						  json_string_length(line) ? json_string_value(line) : NULL));
}

/* The member of s's room, other than s, that publishes track_id. */
static struct pl_session *track_owner(struct pl_session *s, const char *track_id)
{
	for (guint i = 0; s->room && i < s->room->members->len; i++) {
		struct pl_session *m = g_ptr_array_index(s->room->members, i);
		if (m != s && m->tracks && find_track(m->tracks, track_id) != (size_t)-1)
			return m;
	}
	return NULL;
}

/* {"type":"subscribe","tracks":[...],"enabled":false}: stop (or resume)
 * receiving some of the others' tracks.  Their m-lines stay in the sub
 * connection; only forwarding stops.  Resuming starts on a keyframe.
 * Replied to with `subscribed` (an extension, docs/protocol.md). */
int pl_media_sig_subscribe(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jt = json_object_get(msg, "tracks"), *je = json_object_get(msg, "enabled"), *t, *out;
	size_t i;
	int rc;

	if ((rc = check_joined(s, id)) != OK)
		return rc;
	if (!json_is_array(jt) || json_array_size(jt) == 0 || json_array_size(jt) > 64 ||
	    !json_is_boolean(je))
		return fail(s, id, PL_PROTO_BAD_REQUEST,
			    "fields 'tracks' (1-64 track ids) and 'enabled' (boolean) are required");
	json_array_foreach(jt, i, t) {
		if (!json_is_string(t))
			return fail(s, id, PL_PROTO_BAD_REQUEST, "'tracks' must hold track ids");
	}
	if (s->has_claims && !s->claims.subscribe)
		return fail(s, id, PL_PROTO_FORBIDDEN, "your token does not allow receiving media");
	json_array_foreach(jt, i, t) {
		if (!track_owner(s, json_string_value(t)))
			return fail(s, id, PL_PROTO_NOT_FOUND, "no other participant publishes track '%s'",
				    json_string_value(t));
	}
	json_array_foreach(jt, i, t) {
		if ((rc = pl_media_subscribe(s->srv->media, s->id, json_string_value(t), json_is_true(je))) < 0)
			return media_rc(s, id, rc);
	}
	out = json_pack("{s:s, s:O, s:O}", "type", "subscribed", "tracks", jt, "enabled", je);
	if (id)
		json_object_set(out, "id", id);
	pl_session_send(s, out);
	return OK;
}

int pl_media_sig_mute(struct pl_session *s, json_t *msg, json_t *id)
{
	json_t *jt = json_object_get(msg, "track"), *jm = json_object_get(msg, "muted"), *t;
	size_t i;
	int rc;

	if ((rc = check_joined(s, id)) != OK)
		return rc;
	if (!json_is_string(jt) || !json_is_boolean(jm))
		return fail(s, id, PL_PROTO_BAD_REQUEST, "fields 'track' (string) and 'muted' (boolean) are required");
	i = find_track(s->tracks, json_string_value(jt));
	if (i == (size_t)-1)
		return fail(s, id, PL_PROTO_NOT_FOUND, "you publish no track '%s'", json_string_value(jt));
	rc = pl_media_mute(s->srv->media, s->id, json_string_value(jt), json_is_true(jm));
	if (rc < 0)
		return media_rc(s, id, rc);
	t = json_array_get(s->tracks, i);
	json_object_set_new(t, "muted", json_boolean(json_is_true(jm)));
	broadcast_track(s, "updated", t);
	return OK;
}
