/* client/bench_quality.h: what the files of `parley-bench quality` share.
 *
 * bench_quality.c runs the call (clients, senders, receivers' analysis),
 * bench_quality_report.c turns the results into the human table, JSON and
 * the HTML report, bench_netns.c builds the kernel-impairment network.
 * Not installed.  The run's state is one struct q_bench; during the call
 * the receivers' callbacks (client loop threads) and the sampler (main
 * thread) share each pair's figures under the pair's mutex; the analysis
 * and the reports run after every thread stopped.
 */
#ifndef PL_CLIENT_BENCH_QUALITY_H
#define PL_CLIENT_BENCH_QUALITY_H

#include "client/client.h"
#include "client/quality.h"
#include "codecs/vpx.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define Q_MAX_CLIENTS 8
#define Q_MAX_SECONDS 3600
#define Q_FREEZE_US 200000              /* > 200 ms without a new frame */

struct q_opts {
	const char *server, *json_path, *html_path, *impair, *impair_kernel, *srtp_name, *parleyd;
	long clients, width, height, fps, video_kbps, audio_kbps;
	double duration_s, settle_max_s;
	enum pl_client_srtp srtp;
	bool quiet;
};

/* One second of one stream, for the plots. */
struct q_point {
	double kbps, loss_pct, delay_ms, psnr_db;
	bool has_delay, has_psnr;
};

/* What receiver rx gets from sender tx (both kinds). */
struct q_pair {
	int rx, tx;
	pthread_mutex_t mu;
	/* Video, on rx's loop thread. */
	struct pl_vpx_dec *dec;
	struct pl_i420 ref;
	bool waiting_key, have_ts;
	uint32_t last_ts;
	int64_t first_frame_us, last_display_us;
	uint64_t frames_in, decoded, unreadable, decode_errors, skipped, kf_requests;
	int64_t last_kf_req_us;
	/* Over the measured window. */
	uint64_t w_decoded, freezes;
	double freeze_ms, psnr_sum, psnr_min, ssim_sum;
	uint64_t ssim_n;
	float *delays_ms;                   /* video end-to-end, one per frame */
	float *psnrs;
	size_t n_delays, cap_delays;
	/* This second, for the plots. */
	double sec_psnr_sum, sec_delay_sum;
	uint64_t sec_psnr_n, sec_delay_n;
	/* Audio: a recording of the decoded stream in RTP time, with the
	 * arrival of each 20 ms slot (-1: concealed). */
	struct pl_opus_dec *adec;
	int16_t *rec;
	int64_t *slot_us;
	size_t rec_slots, cap_slots;
	uint32_t a_last_ts;
	bool a_started;
	/* Stats snapshots (RTP) at the window's start and end, per kind. */
	struct pl_client_stream_stats st0[2], st1[2], prev[2];
	bool has_st0[2], has_st1[2];
	struct q_point series[2][Q_MAX_SECONDS]; /* [0] audio, [1] video */
	/* Results. */
	struct {
		double fps, psnr_mean, psnr_min, psnr_p5, ssim_mean, freeze_ms;
		double delay_p50, delay_p95, delay_max, ttff_ms;
		uint64_t freezes, frames;
	} v;
	struct {
		bool ok;
		double delay_ms, corr, level_dbfs, src_level_dbfs, loss_pct, burst_ratio;
		double jitter_p95_ms, mouth_to_ear_ms;
		struct pl_quality_emodel em;
		uint64_t slots, concealed;
	} a;
};

struct q_client {
	struct q_bench *b;
	int index;
	char name[32], id[64];
	struct pl_client_loop *loop;
	struct pl_client *c;
	bool impaired, in_netns;
	_Atomic int joined, pub_up, sub_up, failed, kf_wanted;
	pthread_t sender[2];                /* audio, video */
	bool sender_started[2];
	uint32_t speech_seed;
	_Atomic int64_t t0_us;              /* first audio frame's send time */
	int64_t first_video_us, join_us;
	uint64_t frames_sent, audio_sent, kf_sent;
	struct pl_client_stats st0, st1;
};

struct q_bench {
	struct q_opts o;
	char run_id[16], room[64];
	struct q_client cl[Q_MAX_CLIENTS];
	struct q_pair *pairs;               /* [rx * n + tx] */
	size_t n;
	_Atomic int measuring, stop;
	int64_t w0_us, w1_us, settle_ms;
	size_t seconds;                     /* points in the series */
	char kernel_note[160];
};

struct q_pair *q_pair_get(struct q_bench *b, int rx, int tx);

/* bench_quality.c: the call.  q_stop_flag is set by SIGINT/SIGTERM. */
extern volatile sig_atomic_t q_stop_flag;
extern const struct pl_client_callbacks q_callbacks; /* ud: struct q_client * */
void q_sleep_until(int64_t t_us);
void *q_audio_main(void *ud);           /* ud: struct q_client * */
void *q_video_main(void *ud);
void q_settle(struct q_bench *b);
void q_measure(struct q_bench *b);
void q_analyse(struct q_bench *b);

/* bench_quality_report.c */
void q_report_table(const struct q_bench *b, FILE *f);
json_t *q_report_json(const struct q_bench *b, bool ok);
int q_report_html(const struct q_bench *b, const char *path, bool ok);

/* bench_netns.c: the kernel impairment network (--impair-kernel). */
struct q_netns {
	char ns_a[48], ns_b[48], if_a[16], if_b[16];
	const char *addr_a, *addr_b;
	bool made;
	int fd_a, fd_b;                     /* /run/netns/... */
	int fd_host;
	long parleyd_pid;
	int port;
};
/* Why it cannot be made (a message), or NULL. */
const char *q_netns_missing(void);
/* Creates the namespaces and the veth, drops loss_pct % of UDP on both
 * ends (nftables), moves this thread into A and starts parleyd there.
 * Returns 0 or a negative PL_E* code (after printing why). */
int q_netns_setup(struct q_netns *n, double loss_pct, const char *parleyd);
/* Moves the calling thread into B (for the impaired client's loop). */
int q_netns_enter_b(const struct q_netns *n);
/* UDP seen / dropped by the rules, both ends summed. */
void q_netns_counters(const struct q_netns *n, uint64_t *seen, uint64_t *dropped);
/* Stops parleyd, deletes everything.  Safe to call more than once. */
void q_netns_teardown(struct q_netns *n);

#endif
