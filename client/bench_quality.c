/* client/bench_quality.c: `parley-bench quality`, the call-quality rig.
 *
 * N libparley-client participants (default 2) in one room of a running
 * parleyd, all in this process, each on its own client loop thread and
 * with two sender threads (audio, video).  A sender encodes live: the speech-like
 * test signal of client/mediaio.h (a seed per participant) with Opus in
 * 20 ms frames, and the numbered test pattern, whose bar code carries the
 * frame number and the (scheduled) capture time, with VP8.  Video frames
 * are captured on a fixed schedule (capture time = scheduled time, so a
 * sender that falls behind shows up as delay, not as a gap); a keyframe
 * request from the server (PLI/FIR) or from a receiver is honoured at the
 * next frame.
 *
 * Every receiver decodes what it gets, on its loop thread, in the frame
 * callback.  Video frames come complete and in order from the library's
 * reorder buffer, which waits for NACK/RTX repairs, drops deltas after a
 * frame it had to give up and sends PLIs itself; should a frame still
 * follow a gap in RTP time, the receiver freezes and asks the sender for
 * a keyframe directly (counted as keyframe_requests; normally 0).  A
 * decoded frame's bar code gives its number and capture
 * time: the source frame is drawn again for PSNR (every frame) and SSIM
 * (every SSIM_EVERY-th), and display time minus capture time is the
 * end-to-end delay.  Freezes are gaps > 200 ms between displayed frames.
 * Audio: the stream is recorded in RTP time (PLC for missing frames) with
 * each 20 ms slot's arrival time; afterwards a cross-correlation against
 * the regenerated source finds which source samples the recording holds,
 * which turns arrival times into per-frame delays from capture
 * (framing, codec look-ahead, network and server included).  The E-model
 * (ITU-T G.107, quality.h) takes as mouth-to-ear delay the 95th
 * percentile of those (a jitter buffer that plays 95 % of frames in
 * time), the concealed-frame rate as loss, and the observed burstiness.
 * RTP figures (loss after NACK/RTX repair, NACKed, RTX, jitter) come from
 * pl_client_get_stats, sampled each second for the plots.
 *
 * --impair SPEC puts the client impairment stage (client/impair.h) on the
 * last participant, both ways.  --impair-kernel loss=P% runs parleyd and
 * the clients in network namespaces (bench_netns.c) with an nftables rule
 * dropping P % of the UDP to and from the last participant.
 *
 * Threads: main (set-up, sampling, analysis, reports), one loop thread
 * and two sender threads per client.  Pairs are locked (q_pair.mu).
 */
#include "client/bench.h"
#include "client/bench_quality.h"
#include "client/impair.h"
#include "client/mediaio.h"
#include "codecs/opus.h"
#include "codecs/vpx.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SSIM_EVERY 4
#define KF_REQ_MIN_US 300000
#define MAX_STREAMS 64
#define A_SLOT 960                      /* 20 ms at 48 kHz */

volatile sig_atomic_t q_stop_flag;
#define stop_flag q_stop_flag

void q_sleep_until(int64_t t_us)
{
	int64_t now;

	while ((now = pl_clock_mono_us()) < t_us) {
		struct timespec ts = { .tv_sec = (t_us - now) / 1000000,
				       .tv_nsec = (long)((t_us - now) % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

struct q_pair *q_pair_get(struct q_bench *b, int rx, int tx)
{
	return &b->pairs[(size_t)rx * b->n + (size_t)tx];
}

static int sender_of(struct q_bench *b, const char *participant)
{
	for (size_t i = 0; i < b->n; i++)
		if (atomic_load(&b->cl[i].joined) && strcmp(b->cl[i].id, participant) == 0)
			return (int)i;
	return -1;
}

/* ---- senders ------------------------------------------------------------------ */

struct sender {
	struct pl_opus_enc *aenc;
	struct pl_vpx_enc *venc;
	struct pl_i420 img;
	struct pl_speech sp;
	uint8_t pkt[PL_OPUS_MAX_PACKET_BYTES];
};

static void send_audio(struct q_client *qc, struct sender *s)
{
	int16_t pcm[A_SLOT];
	size_t len;

	pl_speech_fill(&s->sp, pcm, A_SLOT);
	if (pl_opus_enc_encode(s->aenc, pcm, s->pkt, sizeof(s->pkt), &len) == 0 &&
	    pl_client_send_opus(qc->c, s->pkt, len, A_SLOT) == 0)
		qc->audio_sent++;
}

static void send_video(struct q_client *qc, struct sender *s, uint32_t no, int64_t capture_us,
		       bool force_key)
{
	struct pl_vpx_packet p;
	bool key = force_key || atomic_exchange(&qc->kf_wanted, 0);

	pl_pattern_draw(&s->img, no, (uint64_t)capture_us);
	if (pl_vpx_enc_encode(s->venc, &s->img, (int64_t)no * 90000 / qc->b->o.fps, key, &p) < 0 ||
	    p.len == 0)
		return;
	if (pl_client_send_vp8(qc->c, p.data, p.len, p.keyframe, capture_us) == 0) {
		qc->frames_sent++;
		qc->kf_sent += p.keyframe;
		if (!qc->first_video_us)
			qc->first_video_us = capture_us;
	}
}

/* Waits for the pub connection; false when the run stops first. */
static bool wait_pub(struct q_client *qc)
{
	while (!atomic_load(&qc->b->stop) && !atomic_load(&qc->pub_up))
		q_sleep_until(pl_clock_mono_us() + 10000);
	return !atomic_load(&qc->b->stop);
}

/* Audio and video have a thread each, as in a browser: a slow VP8 frame
 * never delays an Opus frame. */
void *q_audio_main(void *ud)
{
	struct q_client *qc = ud;
	struct pl_opus_enc_config ac = { .channels = 1, .bitrate_bps = (int)qc->b->o.audio_kbps * 1000 };
	struct sender s = { 0 };
	int64_t t0;

	if (pl_opus_enc_create(&ac, &s.aenc) < 0 ||
	    pl_speech_init(&s.sp, qc->speech_seed, PL_OPUS_RATE_HZ, 1) < 0) {
		atomic_store(&qc->failed, 1);
		goto out;
	}
	if (!wait_pub(qc))
		goto out;
	t0 = pl_clock_mono_us();
	atomic_store(&qc->t0_us, t0);
	/* Frame k (source samples 960k...) is sent at t0 + 20k ms. */
	for (uint64_t k = 0; !atomic_load(&qc->b->stop); k++) {
		q_sleep_until(t0 + (int64_t)k * 20000);
		send_audio(qc, &s);
	}
out:
	pl_opus_enc_destroy(s.aenc);
	return NULL;
}

void *q_video_main(void *ud)
{
	struct q_client *qc = ud;
	struct q_bench *b = qc->b;
	struct pl_vpx_enc_config vc = {
		.width = (int)b->o.width, .height = (int)b->o.height, .fps = (int)b->o.fps,
		.bitrate_kbps = (int)b->o.video_kbps, .error_resilient = true,
	};
	struct sender s = { 0 };
	int64_t t0, vint = 1000000 / b->o.fps;
	bool skipped = false;

	if (pl_vpx_enc_create(&vc, &s.venc) < 0 ||
	    pl_i420_init(&s.img, (int)b->o.width, (int)b->o.height) < 0) {
		atomic_store(&qc->failed, 1);
		goto out;
	}
	if (!wait_pub(qc))
		goto out;
	t0 = pl_clock_mono_us();
	for (uint64_t kv = 0; !atomic_load(&b->stop); kv++) {
		int64_t tv = t0 + (int64_t)kv * vint, now;

		q_sleep_until(tv);
		/* Far behind (a slow build): skip ahead, and restart the video
		 * with a keyframe so that receivers see no missing reference. */
		now = pl_clock_mono_us();
		if (now - tv > 500000) {
			kv = (uint64_t)((now - t0) / vint);
			tv = t0 + (int64_t)kv * vint;
			skipped = true;
		}
		send_video(qc, &s, (uint32_t)kv, tv, kv == 0 || skipped);
		skipped = false;
	}
out:
	pl_vpx_enc_destroy(s.venc);
	pl_i420_release(&s.img);
	return NULL;
}

/* ---- receivers (client loop threads) --------------------------------------------- */

static void want_keyframe(struct q_bench *b, struct q_pair *p, int64_t now)
{
	if (now - p->last_kf_req_us < KF_REQ_MIN_US)
		return;
	p->last_kf_req_us = now;
	p->kf_requests++;
	atomic_store(&b->cl[p->tx].kf_wanted, 1);
}

static void push_delay(struct q_pair *p, float delay_ms, float psnr)
{
	if (p->n_delays == p->cap_delays)
		return;
	p->delays_ms[p->n_delays] = delay_ms;
	p->psnrs[p->n_delays++] = psnr;
}

static void analyse_picture(struct q_bench *b, struct q_pair *p, const struct pl_i420 *img, int64_t now)
{
	bool measuring = atomic_load(&b->measuring);
	struct pl_quality_psnr ps;
	uint64_t send_time;
	uint32_t no;
	double ssim;

	if (p->last_display_us && now - p->last_display_us > Q_FREEZE_US && measuring) {
		p->freezes++;
		p->freeze_ms += (double)(now - p->last_display_us) / 1000.0;
	}
	p->last_display_us = now;
	if (!p->first_frame_us)
		p->first_frame_us = now;
	if (measuring)
		p->w_decoded++;
	if (pl_pattern_read(img, &no, &send_time) < 0 ||
	    pl_pattern_draw(&p->ref, no, send_time) < 0 || pl_quality_psnr(&p->ref, img, &ps) < 0) {
		p->unreadable++;
		return;
	}
	if (!measuring)
		return;
	p->psnr_sum += ps.y;
	if (ps.y < p->psnr_min)
		p->psnr_min = ps.y;
	if (p->w_decoded % SSIM_EVERY == 0 && pl_quality_ssim(&p->ref, img, &ssim) == 0) {
		p->ssim_sum += ssim;
		p->ssim_n++;
	}
	push_delay(p, (float)((double)(now - (int64_t)send_time) / 1000.0), (float)ps.y);
	p->sec_psnr_sum += ps.y;
	p->sec_psnr_n++;
	p->sec_delay_sum += (double)(now - (int64_t)send_time) / 1000.0;
	p->sec_delay_n++;
}

static void on_video(struct q_bench *b, struct q_pair *p, const struct pl_client_frame *f)
{
	uint32_t gap = (uint32_t)(f->rtp_ts - p->last_ts), ts_int = 90000 / (uint32_t)b->o.fps;
	int64_t now = pl_clock_mono_us();
	struct pl_i420 img;
	bool has = false;

	p->frames_in++;
	if (!f->keyframe && (p->waiting_key || !p->have_ts || gap > ts_int + ts_int / 2)) {
		/* A missing frame: its successors reference it.  Freeze. */
		p->waiting_key = true;
		p->skipped++;
		want_keyframe(b, p, now);
		return;
	}
	p->waiting_key = false;
	p->have_ts = true;
	p->last_ts = f->rtp_ts;
	if (pl_vpx_dec_decode(p->dec, f->data, f->len, &img, &has) < 0) {
		p->decode_errors++;
		p->waiting_key = true;
		want_keyframe(b, p, now);
		return;
	}
	if (has) {
		p->decoded++;
		analyse_picture(b, p, &img, pl_clock_mono_us());
	}
}

static void on_audio(struct q_pair *p, const struct pl_client_frame *f)
{
	uint32_t d = (uint32_t)(f->rtp_ts - p->a_last_ts), gap = 0;
	size_t got;

	if (p->a_started) {
		if (d == 0 || d > 0x80000000u)
			return; /* a duplicate or older */
		gap = d / A_SLOT > 0 ? d / A_SLOT - 1 : 0;
		if (gap > 50)
			gap = 50;
	}
	p->a_started = true;
	p->a_last_ts = f->rtp_ts;
	/* Concealment for what is missing, then the frame, in RTP time. */
	for (uint32_t i = 0; i <= gap && p->rec_slots < p->cap_slots; i++) {
		int16_t *dst = p->rec + p->rec_slots * A_SLOT;
		bool lost = i < gap;

		if (pl_opus_dec_decode(p->adec, lost ? NULL : f->data, lost ? 0 : f->len, dst, A_SLOT,
				       &got) < 0 || got != A_SLOT)
			memset(dst, 0, A_SLOT * sizeof(*dst));
		p->slot_us[p->rec_slots++] = lost ? -1 : f->arrival_us;
	}
}

static void on_frame(struct pl_client *c, void *ud, const struct pl_client_frame *f)
{
	struct q_client *qc = ud;
	struct q_bench *b = qc->b;
	int tx = sender_of(b, f->participant);
	struct q_pair *p;

	if (tx < 0 || tx == qc->index)
		return;
	p = q_pair_get(b, qc->index, tx);
	pthread_mutex_lock(&p->mu);
	if (f->kind == PL_CLIENT_VIDEO)
		on_video(b, p, f);
	else
		on_audio(p, f);
	pthread_mutex_unlock(&p->mu);
}

static void on_joined(struct pl_client *c, void *ud, const char *room,
		      const struct pl_client_participant *you,
		      const struct pl_client_participant *others, size_t n_others, uint64_t last_seq)
{
	struct q_client *qc = ud;

	snprintf(qc->id, sizeof(qc->id), "%s", you->id);
	qc->join_us = pl_clock_mono_us();
	atomic_store(&qc->joined, 1);
	if (pl_client_publish(c, true, true) < 0)
		atomic_store(&qc->failed, 1);
}

static void on_media_state(struct pl_client *c, void *ud, enum pl_client_pc pc,
			   enum pl_client_media_state st, const char *srtp)
{
	struct q_client *qc = ud;

	if (st != PL_CLIENT_MEDIA_CONNECTED) {
		atomic_store(&qc->failed, 1);
		fprintf(stderr, "parley-bench quality: %s: %s connection failed\n", qc->name,
			pc == PL_CLIENT_PC_PUB ? "pub" : "sub");
		return;
	}
	atomic_store(pc == PL_CLIENT_PC_PUB ? &qc->pub_up : &qc->sub_up, 1);
}

static void on_keyframe_request(struct pl_client *c, void *ud)
{
	atomic_store(&((struct q_client *)ud)->kf_wanted, 1);
}

static void on_error(struct pl_client *c, void *ud, uint32_t req_id, const char *code, const char *msg)
{
	fprintf(stderr, "parley-bench quality: %s: server error %s: %s\n", ((struct q_client *)ud)->name,
		code, msg);
}

const struct pl_client_callbacks q_callbacks = {
	.joined = on_joined, .media_state = on_media_state, .keyframe_request = on_keyframe_request,
	.frame = on_frame, .error = on_error,
};

/* ---- the run ------------------------------------------------------------------------ */

enum sample_mode { SAMPLE_START, SAMPLE_SECOND, SAMPLE_END };

/* One second's point of a stream from the change of its RTP counters and,
 * for video, the frames analysed meanwhile. */
static void sample_stream(struct q_bench *b, struct q_pair *p, int k,
			  const struct pl_client_stream_stats *ss, enum sample_mode mode, size_t sec)
{
	struct q_point *pt;
	double dexp, dlost;

	if (mode == SAMPLE_START) {
		p->st0[k] = p->prev[k] = *ss;
		p->has_st0[k] = true;
		return;
	}
	if (!p->has_st0[k]) {           /* a stream that began late */
		memset(&p->st0[k], 0, sizeof(p->st0[k]));
		p->prev[k] = p->st0[k];
		p->has_st0[k] = true;
	}
	if (sec < Q_MAX_SECONDS) {
		pt = &p->series[k][sec];
		dexp = (double)ss->expected - (double)p->prev[k].expected;
		dlost = fmax(0, (double)ss->lost - (double)p->prev[k].lost);
		pt->kbps = (double)(ss->bytes - p->prev[k].bytes) * 8 / 1000.0;
		pt->loss_pct = dexp > 0 ? 100.0 * dlost / dexp : 0;
		if (k == 1) {
			pthread_mutex_lock(&p->mu);
			if ((pt->has_psnr = p->sec_psnr_n > 0))
				pt->psnr_db = p->sec_psnr_sum / (double)p->sec_psnr_n;
			if ((pt->has_delay = p->sec_delay_n > 0))
				pt->delay_ms = p->sec_delay_sum / (double)p->sec_delay_n;
			p->sec_psnr_sum = p->sec_delay_sum = 0;
			p->sec_psnr_n = p->sec_delay_n = 0;
			pthread_mutex_unlock(&p->mu);
		}
	}
	p->prev[k] = *ss;
	if (mode == SAMPLE_END) {
		p->st1[k] = *ss;
		p->has_st1[k] = true;
	}
}

static void sample(struct q_bench *b, enum sample_mode mode, size_t sec)
{
	for (size_t i = 0; i < b->n; i++) {
		struct pl_client_stream_stats ss[MAX_STREAMS];
		struct pl_client_stats st;
		size_t n = 0;

		if (!b->cl[i].c)
			continue;
		pl_client_get_stats(b->cl[i].c, &st, ss, MAX_STREAMS, &n);
		if (mode == SAMPLE_START)
			b->cl[i].st0 = st;
		else if (mode == SAMPLE_END)
			b->cl[i].st1 = st;
		for (size_t s = 0; s < n; s++) {
			int tx = sender_of(b, ss[s].participant);

			if (!ss[s].active || tx < 0 || tx == (int)i)
				continue;
			sample_stream(b, q_pair_get(b, (int)i, tx), ss[s].kind == PL_CLIENT_VIDEO, &ss[s],
				      mode, sec);
		}
	}
}

static bool everyone_receives(struct q_bench *b, size_t *dead)
{
	bool all = true;

	*dead = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (atomic_load(&b->cl[i].failed))
			(*dead)++;
		for (size_t j = 0; j < b->n; j++) {
			struct q_pair *p;
			if (i == j)
				continue;
			p = q_pair_get(b, (int)i, (int)j);
			pthread_mutex_lock(&p->mu);
			all = all && p->decoded > 0 && p->rec_slots > 0;
			pthread_mutex_unlock(&p->mu);
		}
	}
	return all;
}

void q_settle(struct q_bench *b)
{
	int64_t t0 = pl_clock_mono_us(), end = t0 + (int64_t)(b->o.settle_max_s * 1e6);
	size_t dead = 0;

	while (!stop_flag && pl_clock_mono_us() < end && !everyone_receives(b, &dead) && !dead)
		q_sleep_until(pl_clock_mono_us() + 100000);
	b->settle_ms = (pl_clock_mono_us() - t0) / 1000;
	if (!b->o.quiet)
		fprintf(stderr, "parley-bench quality: media flowing after %.1f s%s\n",
			(double)b->settle_ms / 1000, everyone_receives(b, &dead) ? "" : " (not every stream)");
	q_sleep_until(pl_clock_mono_us() + 1000000); /* start-up keyframes out of the window */
}

/* A freeze still running when the window closes counts too. */
static void close_freezes(struct q_bench *b)
{
	for (size_t i = 0; i < b->n * b->n; i++) {
		struct q_pair *p = &b->pairs[i];
		int64_t since;

		if (p->rx == p->tx)
			continue;
		pthread_mutex_lock(&p->mu);
		since = p->last_display_us > b->w0_us ? p->last_display_us : b->w0_us;
		if (b->w1_us - since > Q_FREEZE_US) {
			p->freezes++;
			p->freeze_ms += (double)(b->w1_us - since) / 1000.0;
		}
		pthread_mutex_unlock(&p->mu);
	}
}

void q_measure(struct q_bench *b)
{
	int64_t end;
	size_t sec = 0;

	b->w0_us = pl_clock_mono_us();
	sample(b, SAMPLE_START, 0);
	atomic_store(&b->measuring, 1);
	end = b->w0_us + (int64_t)(b->o.duration_s * 1e6);
	for (int64_t t = b->w0_us + 1000000; !stop_flag && t < end; t += 1000000) {
		q_sleep_until(t);
		sample(b, SAMPLE_SECOND, sec++);
		if (!b->o.quiet)
			fprintf(stderr, "  [%3zu s]\n", sec);
	}
	if (!stop_flag)
		q_sleep_until(end);
	atomic_store(&b->measuring, 0);
	b->w1_us = pl_clock_mono_us();
	sample(b, SAMPLE_END, sec++);
	b->seconds = sec < Q_MAX_SECONDS ? sec : Q_MAX_SECONDS;
	close_freezes(b);
}

/* ---- analysis (every thread stopped) -------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

static double pctl(const float *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)ceil(q / 100.0 * (double)n);
	return v[i ? i - 1 : 0];
}

static void analyse_video(struct q_bench *b, struct q_pair *p)
{
	double win_s = (double)(b->w1_us - b->w0_us) / 1e6;
	int64_t from;

	p->v.frames = p->w_decoded;
	p->v.fps = win_s > 0 ? (double)p->w_decoded / win_s : 0;
	p->v.psnr_mean = p->n_delays ? p->psnr_sum / (double)p->n_delays : 0;
	p->v.psnr_min = p->n_delays ? p->psnr_min : 0;
	p->v.ssim_mean = p->ssim_n ? p->ssim_sum / (double)p->ssim_n : 0;
	p->v.freezes = p->freezes;
	p->v.freeze_ms = p->freeze_ms;
	qsort(p->psnrs, p->n_delays, sizeof(float), cmp_float);
	p->v.psnr_p5 = pctl(p->psnrs, p->n_delays, 5);
	qsort(p->delays_ms, p->n_delays, sizeof(float), cmp_float);
	p->v.delay_p50 = pctl(p->delays_ms, p->n_delays, 50);
	p->v.delay_p95 = pctl(p->delays_ms, p->n_delays, 95);
	p->v.delay_max = p->n_delays ? p->delays_ms[p->n_delays - 1] : 0;
	/* From when both could: the receiver joined and the sender sent. */
	from = b->cl[p->rx].join_us > b->cl[p->tx].first_video_us ? b->cl[p->rx].join_us
								    : b->cl[p->tx].first_video_us;
	p->v.ttff_ms = p->first_frame_us && from ? (double)(p->first_frame_us - from) / 1000.0 : -1;
}

/* Slots [first, last] of the recording that arrived within the window. */
static bool audio_window(struct q_bench *b, struct q_pair *p, size_t *first, size_t *last)
{
	bool found = false;

	for (size_t i = 0; i < p->rec_slots; i++) {
		if (p->slot_us[i] < 0)
			continue;
		if (!found && p->slot_us[i] >= b->w0_us)
			*first = i, found = true;
		if (found && p->slot_us[i] <= b->w1_us)
			*last = i;
	}
	return found && *last > *first + 50;
}

/* Per-slot delays from capture, given that recording slot `first`
 * starts at source sample src_first; also the per-second delay points. */
static size_t audio_delays(struct q_bench *b, struct q_pair *p, size_t first, size_t last,
			   int64_t src_first, float *out)
{
	int64_t t0 = atomic_load(&b->cl[p->tx].t0_us);
	double sum[Q_MAX_SECONDS] = { 0 };
	unsigned cnt[Q_MAX_SECONDS] = { 0 };
	size_t n = 0;

	for (size_t i = first; i <= last; i++) {
		int64_t src = src_first + (int64_t)(i - first) * A_SLOT, cap_us;
		size_t sec;

		if (p->slot_us[i] < 0)
			continue;
		/* Source frame k is captured over the 20 ms before t0 + 20k ms. */
		cap_us = t0 - 20000 + src * 1000000 / PL_OPUS_RATE_HZ;
		out[n++] = (float)((double)(p->slot_us[i] - cap_us) / 1000.0);
		sec = (size_t)((p->slot_us[i] - b->w0_us) / 1000000);
		if (sec < b->seconds) {
			sum[sec] += out[n - 1];
			cnt[sec]++;
		}
	}
	for (size_t s = 0; s < b->seconds; s++)
		if ((p->series[0][s].has_delay = cnt[s] > 0))
			p->series[0][s].delay_ms = sum[s] / cnt[s];
	return n;
}

static void analyse_audio(struct q_bench *b, struct q_pair *p)
{
	size_t first = 0, last = 0, deg_n, ref_n, n, runs = 0, concealed = 0;
	int64_t t0 = atomic_load(&b->cl[p->tx].t0_us), est, r0;
	struct pl_quality_emodel_in ein = { .codec = PL_QUALITY_CODEC_OPUS };
	struct pl_speech sp;
	int16_t *ref = NULL, *deg;
	float *delays = NULL;
	int lag = 0;

	if (!t0 || !audio_window(b, p, &first, &last))
		return;
	deg = p->rec + first * A_SLOT;
	deg_n = (last + 1 - first) * A_SLOT;
	/* Where the source probably is: sent around the first arrival,
	 * searched up to a second either side. */
	est = (p->slot_us[first] - t0) * PL_OPUS_RATE_HZ / 1000000;
	r0 = est > PL_OPUS_RATE_HZ / 2 ? est - PL_OPUS_RATE_HZ / 2 : 0;
	ref_n = deg_n + PL_OPUS_RATE_HZ;
	ref = malloc(ref_n * sizeof(*ref));
	delays = malloc((last + 1 - first) * sizeof(*delays));
	if (!ref || !delays || pl_speech_init(&sp, b->cl[p->tx].speech_seed, PL_OPUS_RATE_HZ, 1) < 0)
		goto out;
	sp.pos = (uint64_t)r0;
	pl_speech_fill(&sp, ref, ref_n);
	if (pl_quality_delay(ref, ref_n, deg, deg_n, PL_OPUS_RATE_HZ, &lag, &p->a.corr) < 0)
		goto out;
	/* deg[i + lag] ~ ref[i]: recording sample d is source r0 + d - lag. */
	n = audio_delays(b, p, first, last, r0 - lag, delays);
	qsort(delays, n, sizeof(float), cmp_float);
	p->a.delay_ms = pctl(delays, n, 50);
	p->a.jitter_p95_ms = pctl(delays, n, 95) - p->a.delay_ms;
	p->a.mouth_to_ear_ms = pctl(delays, n, 95);
	p->a.level_dbfs = pl_quality_rms_dbfs(deg, deg_n);
	if (lag <= 0 && (size_t)(-lag) + deg_n <= ref_n)
		p->a.src_level_dbfs = pl_quality_rms_dbfs(ref + (-lag), deg_n);
	for (size_t i = first; i <= last; i++) {
		bool lost = p->slot_us[i] < 0;
		concealed += lost;
		runs += lost && (i == first || p->slot_us[i - 1] >= 0);
	}
	p->a.slots = last + 1 - first;
	p->a.concealed = concealed;
	p->a.loss_pct = 100.0 * (double)concealed / (double)p->a.slots;
	/* G.107 BurstR: mean observed burst over the mean under random loss. */
	p->a.burst_ratio = runs ? (double)concealed / (double)runs * (1 - p->a.loss_pct / 100) : 1;
	ein.one_way_delay_ms = fmax(0, p->a.mouth_to_ear_ms);
	ein.loss_pct = p->a.loss_pct;
	ein.burst_ratio = fmax(1, p->a.burst_ratio);
	p->a.ok = pl_quality_emodel(&ein, &p->a.em) == 0;
out:
	free(ref);
	free(delays);
}

void q_analyse(struct q_bench *b)
{
	for (size_t i = 0; i < b->n * b->n; i++) {
		struct q_pair *p = &b->pairs[i];

		if (p->rx == p->tx)
			continue;
		analyse_video(b, p);
		analyse_audio(b, p);
	}
}
