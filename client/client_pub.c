/* client/client_pub.c: what a client publishes on its pub connection.
 *
 * Up to two sent streams: Opus (payload type 111, 48 kHz, one packet per
 * frame, the RTP timestamp advancing by the frame's samples) and VP8
 * (payload type 96, 90 kHz timestamps from the capture time, RTX on 97).
 * A VP8 frame is cut into packets of at most PL_CLIENT_RTP_MAX_BYTES of
 * roughly equal size, each with a four-byte payload descriptor (RFC 7741
 * 4.2: X and S bits, partition 0, a 15-bit picture id); the marker bit
 * ends the frame.  Every packet is kept in plaintext in the stream's
 * retransmission buffer (media/nack.h) before it is protected, so a NACK
 * from the server is answered from it -- as RTX when the server's answer
 * kept RTX, else as the packet itself.  PLI and FIR become the
 * keyframe_request callback (and restart a playing clip at a keyframe).
 * Once a second each stream sends an SR; the server's RR gives the RTT.
 * Runs on the loop thread; stack buffers per packet.
 */
#include "client/client_internal.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_OPUS 111
#define PT_VP8 96
#define PT_RTX 97
#define VP8_DESC_BYTES 4
#define NACK_MAX 256
#define RTCP_CAP 1200

static void out_init(struct pl_client_out *o, bool video)
{
	memset(o, 0, sizeof(*o));
	o->video = video;
	g_strlcpy(o->mid, video ? "1" : "0", sizeof(o->mid));
	snprintf(o->track, sizeof(o->track), "%c-%08x", video ? 'v' : 'a', g_random_int());
	o->ssrc = g_random_int();
	o->pt = video ? PT_VP8 : PT_OPUS;
	o->seq = (uint16_t)g_random_int();
	o->ts_base = g_random_int();
	o->picture_id = (uint16_t)(g_random_int() & 0x7fff);
	/* More than a second at up to 4 Mbit/s for video; Opus is small. */
	o->buf = video ? pl_rtx_buf_create(1024, 512 * 1024) : pl_rtx_buf_create(128, 32 * 1024);
	pl_rtcp_tx_init(&o->tx, video ? 90000 : 48000);
	if (video) {
		o->rtx_ssrc = g_random_int();
		o->rtx_pt = PT_RTX;
		pl_rtx_stream_init(&o->rtx, o->rtx_ssrc, PT_RTX, (uint16_t)g_random_int());
	}
}

int pl_client_pub_start(struct pl_client *c, bool audio, bool video)
{
	struct pl_client_pub *pub = &c->pub;

	if (pub->peer || pub->has_audio || pub->has_video)
		return PL_EEXIST;
	pub->has_audio = audio;
	pub->has_video = video;
	if (audio)
		out_init(&pub->audio, false);
	if (video)
		out_init(&pub->video, true);
	pub->rtcp_ssrc = g_random_int();
	return pl_client_pub_restart(c);
}

/* A new pub connection for the tracks we have (first publish, or again
 * after a reconnect: the server forgot the old one). */
int pl_client_pub_restart(struct pl_client *c)
{
	struct pl_client_pub *pub = &c->pub;

	if (pub->peer || (!pub->has_audio && !pub->has_video))
		return 0;
	pub->offer_sent = pub->answered = false;
	pub->peer = pl_client_peer_create(c, PL_CLIENT_PC_PUB);
	if (!pub->peer)
		return PL_EIO;
	/* Host candidates on loopback are gathered before this returns; the
	 * offer goes out when gathering is done. */
	if (pl_ice_transport_gather(pub->peer->ice) < 0)
		return PL_EIO;
	if (pub->peer->gathering_done)
		pl_client_pub_send_offer(c);
	return 0;
}

void pl_client_pub_detach(struct pl_client *c)
{
	pl_client_peer_destroy(c->pub.peer);
	c->pub.peer = NULL;
	c->pub.offer_sent = c->pub.answered = false;
	c->pub.offer_req = 0;
}

void pl_client_pub_release(struct pl_client *c)
{
	pl_client_peer_destroy(c->pub.peer);
	pl_rtx_buf_destroy(c->pub.audio.buf);
	pl_rtx_buf_destroy(c->pub.video.buf);
	memset(&c->pub, 0, sizeof(c->pub));
}

void pl_client_pub_send_offer(struct pl_client *c)
{
	struct pl_client_pub *pub = &c->pub;
	struct pl_client_sdp_local l;
	struct pl_sdp *offer;
	char *text = NULL;
	json_t *msg;

	/* Not before we are in the room (the server refuses it); `joined`
	 * sends it (pl_client_on_message). */
	if (pub->offer_sent || !pub->peer || !c->pid)
		return;
	pl_client_sdp_local_fill(c, pub->peer, &l);
	offer = pl_client_sdp_pub_offer(pub, &l);
	pl_client_peer_fill_candidates(pub->peer, pl_client_sdp_bundle_media(offer));
	if (pl_sdp_write(offer, &text, NULL) < 0) {
		PL_LOG(PL_LOG_ERROR, "sdp", "cannot write our pub offer");
		pl_sdp_destroy(offer);
		return;
	}
	pl_sdp_destroy(offer);
	pub->offer_req = pl_client_next_req(c);
	msg = json_pack("{s:s, s:s, s:I, s:s}", "type", "offer", "pc", "pub", "id",
			(json_int_t)pub->offer_req, "sdp", text);
	free(text);
	pub->offer_sent = pl_client_sig_send(c, msg) == 0;
}

static bool answer_keeps_rtx(const struct pl_sdp *answer, const struct pl_client_out *o)
{
	const struct pl_sdp_media *m = pl_sdp_media_by_mid(answer, o->mid);

	return m && m->port != 0 && pl_sdp_media_rtpmap(m, o->rtx_pt) != NULL;
}

void pl_client_pub_on_answer(struct pl_client *c, const char *text)
{
	struct pl_client_pub *pub = &c->pub;
	struct pl_sdp_error err = { 0 };
	struct pl_sdp_remote r;
	struct pl_sdp *answer = NULL;
	int rc;

	if (!pub->peer || pub->answered)
		return;
	rc = pl_sdp_parse(text, strlen(text), &answer, &err);
	if (rc == 0)
		rc = pl_sdp_bundle_transport(answer, NULL, &r);
	if (rc == 0)
		rc = pl_client_peer_set_remote(pub->peer, &r);
	if (rc < 0) {
		PL_LOG(PL_LOG_WARN, "sdp", "[p=%s] unusable pub answer (line %u: %s): %s",
		       c->pid ? c->pid : "-", err.line, err.reason ? err.reason : "-", pl_strerror(rc));
		pl_sdp_destroy(answer);
		pl_client_on_media_state(c, PL_CLIENT_PC_PUB, rc);
		return;
	}
	pub->answered = true;
	if (pub->has_video)
		pub->video.rtx_ok = answer_keeps_rtx(answer, &pub->video);
	pl_sdp_destroy(answer);
}

/* ---- sending ----------------------------------------------------------- */

/* Keeps the plaintext packet for NACKs, then protects and sends it. */
static int send_packet(struct pl_client *c, struct pl_client_out *o, uint8_t *buf, size_t len,
		       size_t payload_len, int64_t now)
{
	int rc;

	pl_rtx_buf_put(o->buf, pl_rd16(buf + 2), buf, len, now);
	pl_rtcp_tx_on_packet(&o->tx, pl_rd32(buf + 4), payload_len, now);
	rc = pl_client_peer_send_rtp(c->pub.peer, buf, len, PL_CLIENT_PKT_CAP + PL_SRTP_MAX_TRAILER);
	if (rc == 0) {
		c->bytes_sent += len;
		if (o->video)
			c->video_sent++;
		else
			c->audio_sent++;
	}
	return rc;
}

static void write_header(uint8_t *buf, const struct pl_client_out *o, bool marker, uint32_t ts)
{
	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | o->pt);
	pl_wr16(buf + 2, o->seq);
	pl_wr32(buf + 4, ts);
	pl_wr32(buf + 8, o->ssrc);
}

int pl_client_pub_send_opus(struct pl_client *c, const uint8_t *data, size_t len, uint32_t samples)
{
	struct pl_client_out *o = &c->pub.audio;
	uint8_t buf[PL_CLIENT_PKT_CAP + PL_SRTP_MAX_TRAILER];
	int rc;

	if (!c->pub.has_audio || !data || len == 0 || len > PL_CLIENT_RTP_MAX_BYTES - PL_RTP_HEADER_BYTES)
		return PL_EINVAL;
	if (!c->pub.peer || !c->pub.peer->connected) {
		o->ts += samples;
		return PL_EBUSY;
	}
	write_header(buf, o, o->tx.packets == 0, o->ts_base + o->ts); /* talkspurt start */
	memcpy(buf + PL_RTP_HEADER_BYTES, data, len);
	rc = send_packet(c, o, buf, PL_RTP_HEADER_BYTES + len, len, pl_clock_mono_us());
	o->seq++;
	o->ts += samples;
	c->frames_sent++;
	return rc;
}

int pl_client_pub_send_vp8(struct pl_client *c, const uint8_t *data, size_t len, bool keyframe,
			   int64_t capture_us)
{
	const size_t room = PL_CLIENT_RTP_MAX_BYTES - PL_RTP_HEADER_BYTES - VP8_DESC_BYTES;
	struct pl_client_out *o = &c->pub.video;
	uint8_t buf[PL_CLIENT_PKT_CAP + PL_SRTP_MAX_TRAILER];
	int64_t now = pl_clock_mono_us();
	size_t n, chunk, off = 0;
	uint32_t ts;
	int rc = 0;

	if (!c->pub.has_video || !data || len == 0)
		return PL_EINVAL;
	if (!capture_us)
		capture_us = now;
	if (!o->has_capture)
		o->has_capture = true, o->first_capture_us = capture_us;
	ts = o->ts_base + (uint32_t)((capture_us - o->first_capture_us) * 9 / 100);
	o->picture_id = (o->picture_id + 1) & 0x7fff;
	if (!c->pub.peer || !c->pub.peer->connected)
		return PL_EBUSY;
	n = (len + room - 1) / room;
	chunk = (len + n - 1) / n; /* equal sizes rather than one runt at the end */
	for (size_t i = 0; i < n; i++) {
		size_t part = len - off < chunk ? len - off : chunk;
		uint8_t *d = buf + PL_RTP_HEADER_BYTES;

		write_header(buf, o, i == n - 1, ts);
		d[0] = 0x80 | (i == 0 ? 0x10 : 0);           /* X, S, partition 0 */
		d[1] = 0x80;                                 /* I: picture id present */
		d[2] = (uint8_t)(0x80 | o->picture_id >> 8); /* M: 15 bits */
		d[3] = (uint8_t)o->picture_id;
		memcpy(d + VP8_DESC_BYTES, data + off, part);
		off += part;
		rc = send_packet(c, o, buf, PL_RTP_HEADER_BYTES + VP8_DESC_BYTES + part,
				 VP8_DESC_BYTES + part, now);
		o->seq++;
	}
	c->frames_sent++;
	(void)keyframe; /* the receiver finds keyframes in the payload itself */
	return rc;
}

/* ---- feedback from the server ------------------------------------------ */

static struct pl_client_out *out_by_ssrc(struct pl_client *c, uint32_t ssrc)
{
	if (c->pub.has_audio && c->pub.audio.ssrc == ssrc)
		return &c->pub.audio;
	if (c->pub.has_video && c->pub.video.ssrc == ssrc)
		return &c->pub.video;
	return NULL;
}

static void resend(struct pl_client *c, struct pl_client_out *o, uint16_t seq, int64_t now)
{
	uint8_t buf[PL_CLIENT_PKT_CAP + 2 + PL_SRTP_MAX_TRAILER];
	const uint8_t *pkt;
	size_t len, olen;

	if (pl_rtx_buf_get(o->buf, seq, now, c->rtt_ms, &pkt, &len) < 0)
		return; /* too old, never sent, or resent a moment ago */
	if (o->video && o->rtx_ok) {
		if (pl_rtx_stream_write(&o->rtx, pkt, len, buf, PL_CLIENT_PKT_CAP + 2, &olen) < 0)
			return;
	} else {
		memcpy(buf, pkt, len);
		olen = len;
	}
	if (pl_client_peer_send_rtp(c->pub.peer, buf, olen, sizeof(buf)) == 0)
		c->retransmits++;
}

static void on_nack(struct pl_client *c, const struct pl_rtcp_pkt *pkt, int64_t now)
{
	uint16_t seqs[NACK_MAX];
	struct pl_rtcp_nack nack;
	struct pl_client_out *o;
	size_t n;

	if (pl_rtcp_nack_parse(pkt, &nack) < 0 || !(o = out_by_ssrc(c, nack.media_ssrc)) ||
	    pl_rtcp_nack_seqs(&nack, seqs, NACK_MAX, &n) < 0)
		return;
	c->nacks_received++;
	for (size_t i = 0; i < n; i++)
		resend(c, o, seqs[i], now);
}

static void on_keyframe_request(struct pl_client *c, uint32_t media_ssrc)
{
	if (!c->pub.has_video || media_ssrc != c->pub.video.ssrc)
		return;
	c->plis_received++;
	if (c->player)
		pl_client_player_keyframe(c->player);
	if (c->cb.keyframe_request)
		c->cb.keyframe_request(c, c->ud);
}

static void on_reports(struct pl_client *c, const struct pl_rtcp_report *rb, size_t n, int64_t now)
{
	uint32_t mid32 = pl_rtcp_ntp_mid32(pl_rtcp_ntp_clock_at(&c->ntp, now)), rtt;

	for (size_t i = 0; i < n; i++)
		if (out_by_ssrc(c, rb[i].ssrc) && pl_rtcp_rtt_ms(&rb[i], mid32, &rtt) == 0)
			c->rtt_ms = rtt;
}

static void on_feedback(struct pl_client *c, const struct pl_rtcp_pkt *pkt, int64_t now)
{
	uint32_t sender, media;
	struct pl_rtcp_fir fir;
	struct pl_rtcp_rr rr;
	struct pl_rtcp_sr sr;

	if (pkt->pt == PL_RTCP_RTPFB && pkt->count == PL_RTCP_FMT_NACK) {
		on_nack(c, pkt, now);
	} else if (pkt->pt == PL_RTCP_PSFB && pkt->count == PL_RTCP_FMT_PLI) {
		if (pl_rtcp_pli_parse(pkt, &sender, &media) == 0)
			on_keyframe_request(c, media);
	} else if (pkt->pt == PL_RTCP_PSFB && pkt->count == PL_RTCP_FMT_FIR) {
		if (pl_rtcp_fir_parse(pkt, &fir) == 0 && fir.entry_count > 0)
			on_keyframe_request(c, pl_rtcp_fir_entry(&fir, 0).ssrc);
	} else if (pkt->pt == PL_RTCP_RR) {
		if (pl_rtcp_rr_parse(pkt, &rr) == 0)
			on_reports(c, rr.reports, rr.report_count, now);
	} else if (pkt->pt == PL_RTCP_SR) {
		if (pl_rtcp_sr_parse(pkt, &sr) == 0)
			on_reports(c, sr.reports, sr.report_count, now);
	}
}

void pl_client_pub_on_rtcp(struct pl_client *c, const uint8_t *buf, size_t len)
{
	int64_t now = pl_clock_mono_us();
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt pkt;

	pl_rtcp_iter_init(&it, buf, len);
	while (pl_rtcp_iter_next(&it, &pkt) == 0)
		on_feedback(c, &pkt, now);
}

/* Once a second: an SR for each stream that sent something. */
void pl_client_pub_tick(struct pl_client *c, int64_t now_us, bool reports)
{
	struct pl_client_out *outs[2] = { &c->pub.audio, &c->pub.video };
	uint8_t buf[RTCP_CAP + PL_SRTP_MAX_TRAILER];
	uint64_t ntp = pl_rtcp_ntp_clock_at(&c->ntp, now_us);
	size_t len = 0, n;

	if (!reports || !c->pub.peer || !c->pub.peer->connected)
		return;
	for (size_t i = 0; i < 2; i++) {
		struct pl_rtcp_sr sr;

		if ((i == 0 ? !c->pub.has_audio : !c->pub.has_video) ||
		    pl_rtcp_tx_sr(&outs[i]->tx, outs[i]->ssrc, now_us, ntp, &sr) < 0)
			continue;
		if (pl_rtcp_sr_write(&sr, buf + len, RTCP_CAP - len, &n) == 0)
			len += n;
	}
	if (len)
		pl_client_peer_send_rtcp(c->pub.peer, buf, len, sizeof(buf));
}
