/* client/bench_quality_report.c: the reports of `parley-bench quality`.
 *
 * From the analysed run (struct q_bench, every thread stopped): a human
 * table (video streams, audio streams, clients), one JSON object, and a
 * self-contained HTML report -- inline CSS and SVG line plots per second
 * (received bitrate, loss after repair, delay, PSNR), no script, no
 * external resource.  The HTML is written as well-formed XML (void tags
 * closed, text escaped) so that a plain XML parser can check it.
 * Main thread only.
 */
#include "client/bench.h"
#include "client/bench_quality.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_name[2] = { "audio", "video" };

/* RTP figures of one stream over the window. */
struct rtp_fig {
	uint64_t packets, expected, lost, nacked, rtx, duplicates;
	double loss_pct, nacked_pct, jitter_ms, kbps;
	bool ok;
};

static void rtp_of(const struct q_bench *b, const struct q_pair *p, int k, struct rtp_fig *r)
{
	const struct pl_client_stream_stats *a = &p->st0[k], *z = &p->st1[k];
	double win_s = (double)(b->w1_us - b->w0_us) / 1e6;

	memset(r, 0, sizeof(*r));
	if (!p->has_st1[k])
		return;
	r->ok = true;
	r->packets = z->packets - a->packets;
	r->expected = z->expected - a->expected;
	r->lost = z->lost > a->lost ? z->lost - a->lost : 0;
	r->nacked = z->nacked - a->nacked;
	r->rtx = z->rtx - a->rtx;
	r->duplicates = z->duplicates - a->duplicates;
	r->loss_pct = r->expected ? 100.0 * (double)r->lost / (double)r->expected : 0;
	r->nacked_pct = r->expected ? 100.0 * (double)r->nacked / (double)r->expected : 0;
	r->jitter_ms = z->jitter_ms;
	r->kbps = win_s > 0 ? (double)(z->bytes - a->bytes) * 8 / 1000 / win_s : 0;
}

static double r3(double x)
{
	return isfinite(x) ? pl_bench_round3(x) : 0;
}

static bool is_pair(const struct q_pair *p)
{
	return p->rx != p->tx;
}

/* ---- table ------------------------------------------------------------------------ */

void q_report_table(const struct q_bench *b, FILE *f)
{
	fprintf(f, "\nparley-bench quality: %zu participants, %.1f s measured%s%s%s%s\n", b->n,
		(double)(b->w1_us - b->w0_us) / 1e6, b->o.impair ? ", --impair " : "",
		b->o.impair ? b->o.impair : "", b->kernel_note[0] ? ", --impair-kernel " : "", b->kernel_note);
	fprintf(f, "\n%-10s %7s %6s %6s %6s %6s %7s %7s %6s %5s %8s %7s\n", "video", "kbps", "loss%",
		"nack%", "fps", "PSNR", "PSNRmin", "SSIM", "freeze", "ms", "delay50", "TTFF");
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		struct rtp_fig r;
		char name[80];

		if (!is_pair(p))
			continue;
		rtp_of(b, p, 1, &r);
		snprintf(name, sizeof(name), "%s>%s", b->cl[p->tx].name, b->cl[p->rx].name);
		fprintf(f, "%-10s %7.0f %6.2f %6.2f %6.1f %6.2f %7.2f %7.4f %6llu %5.0f %8.1f %7.0f\n", name,
			r.kbps, r.loss_pct, r.nacked_pct, p->v.fps, p->v.psnr_mean, p->v.psnr_min,
			p->v.ssim_mean, (unsigned long long)p->v.freezes, p->v.freeze_ms, p->v.delay_p50,
			p->v.ttff_ms);
	}
	fprintf(f, "\n%-10s %7s %6s %7s %7s %7s %6s %7s %6s %5s\n", "audio", "kbps", "loss%", "conceal",
		"delay50", "m2e", "corr", "dBFS", "R", "MOS");
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		struct rtp_fig r;
		char name[80];

		if (!is_pair(p))
			continue;
		rtp_of(b, p, 0, &r);
		snprintf(name, sizeof(name), "%s>%s", b->cl[p->tx].name, b->cl[p->rx].name);
		fprintf(f, "%-10s %7.0f %6.2f %7.2f %7.1f %7.1f %6.3f %7.1f %6.1f %5.2f\n", name, r.kbps,
			r.loss_pct, p->a.loss_pct, p->a.delay_ms, p->a.mouth_to_ear_ms, p->a.corr,
			p->a.level_dbfs, p->a.em.r, p->a.em.mos);
	}
	fprintf(f, "\n%-10s %6s %9s %9s %9s %9s\n", "client", "RTT", "imp.lost", "imp.ovfl", "imp.delay",
		"srtp");
	for (size_t i = 0; i < b->n; i++) {
		const struct q_client *c = &b->cl[i];
		const struct pl_client_stats *s = &c->st1;

		fprintf(f, "%-10s %6u %9llu %9llu %9.1f %9s\n", c->name, s->rtt_ms,
			(unsigned long long)(s->impair_in.lost + s->impair_out.lost),
			(unsigned long long)(s->impair_in.overflow + s->impair_out.overflow),
			(s->impair_in.delay_mean_ms + s->impair_out.delay_mean_ms) / 2,
			s->sub_srtp[0] ? s->sub_srtp + 5 : "-");
	}
	fprintf(f, "(loss%%: after NACK/RTX repair; nack%%: sequence numbers NACKed, i.e. lost before "
		   "repair; conceal: audio frames concealed; m2e: mouth-to-ear ms used for MOS)\n\n");
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *impair_json(const struct pl_client_impair_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:i}", "packets", (json_int_t)s->packets,
			 "delivered", (json_int_t)s->delivered, "lost", (json_int_t)s->lost,
			 "overflow", (json_int_t)s->overflow, "purged", (json_int_t)s->purged,
			 "delay_mean_ms", r3(s->delay_mean_ms), "delay_max_ms", r3(s->delay_max_ms),
			 "queued_max", (int)s->queued_max);
}

static json_t *rtp_json(const struct q_bench *b, const struct q_pair *p, int k)
{
	struct rtp_fig r;

	rtp_of(b, p, k, &r);
	return json_pack("{s:I, s:I, s:I, s:f, s:I, s:f, s:I, s:I, s:f, s:f, s:i}",
			 "packets", (json_int_t)r.packets, "expected", (json_int_t)r.expected,
			 "lost", (json_int_t)r.lost, "loss_pct", r3(r.loss_pct),
			 "nacked", (json_int_t)r.nacked, "nacked_pct", r3(r.nacked_pct),
			 "rtx", (json_int_t)r.rtx, "duplicates", (json_int_t)r.duplicates,
			 "jitter_ms", r3(r.jitter_ms), "kbps", r3(r.kbps),
			 "rtt_ms", (int)b->cl[p->tx].st1.rtt_ms);
}

static json_t *video_json(const struct q_bench *b, const struct q_pair *p)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:f, s:{s:f, s:f, s:f}, s:f, s:I, s:f,"
			      " s:{s:f, s:f, s:f}, s:f}",
			      "kind", "video", "from", b->cl[p->tx].name, "to", b->cl[p->rx].name,
			      "frames", (json_int_t)p->v.frames, "fps", r3(p->v.fps),
			      "psnr_db", "mean", r3(p->v.psnr_mean), "min", r3(p->v.psnr_min),
			      "p5", r3(p->v.psnr_p5), "ssim", r3(p->v.ssim_mean),
			      "freezes", (json_int_t)p->v.freezes, "freeze_ms", r3(p->v.freeze_ms),
			      "delay_ms", "p50", r3(p->v.delay_p50), "p95", r3(p->v.delay_p95),
			      "max", r3(p->v.delay_max), "ttff_ms", r3(p->v.ttff_ms));

	json_object_set_new(j, "skipped_frames", json_integer((json_int_t)p->skipped));
	json_object_set_new(j, "decode_errors", json_integer((json_int_t)p->decode_errors));
	json_object_set_new(j, "unreadable_frames", json_integer((json_int_t)p->unreadable));
	json_object_set_new(j, "keyframe_requests", json_integer((json_int_t)p->kf_requests));
	json_object_set_new(j, "rtp", rtp_json(b, p, 1));
	return j;
}

static json_t *audio_json(const struct q_bench *b, const struct q_pair *p)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:f, s:f,"
			      " s:f, s:f}",
			      "kind", "audio", "from", b->cl[p->tx].name, "to", b->cl[p->rx].name,
			      "ok", p->a.ok, "delay_ms", r3(p->a.delay_ms), "corr", r3(p->a.corr),
			      "level_dbfs", r3(p->a.level_dbfs), "source_level_dbfs", r3(p->a.src_level_dbfs),
			      "concealed_pct", r3(p->a.loss_pct), "frames", (json_int_t)p->a.slots,
			      "concealed", (json_int_t)p->a.concealed, "burst_ratio", r3(p->a.burst_ratio),
			      "jitter_p95_ms", r3(p->a.jitter_p95_ms),
			      "mouth_to_ear_ms", r3(p->a.mouth_to_ear_ms), "r", r3(p->a.em.r),
			      "mos", r3(p->a.em.mos));

	json_object_set_new(j, "rtp", rtp_json(b, p, 0));
	return j;
}

static json_t *series_arr(const struct q_bench *b, const struct q_pair *p, int k, int field)
{
	json_t *a = json_array();

	for (size_t s = 0; s < b->seconds; s++) {
		const struct q_point *pt = &p->series[k][s];
		double v = field == 0 ? pt->kbps : field == 1 ? pt->loss_pct
			   : field == 2 ? pt->delay_ms : pt->psnr_db;
		bool has = field < 2 || (field == 2 ? pt->has_delay : pt->has_psnr);

		json_array_append_new(a, has ? json_real(r3(v)) : json_null());
	}
	return a;
}

static json_t *clients_json(const struct q_bench *b)
{
	json_t *a = json_array();

	for (size_t i = 0; i < b->n; i++) {
		const struct q_client *c = &b->cl[i];
		const struct pl_client_stats *s = &c->st1;
		json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
				      "name", c->name, "id", c->id, "impaired", c->impaired,
				      "kernel_impaired", c->in_netns, "rtt_ms", (int)s->rtt_ms,
				      "pub_srtp", s->pub_srtp, "sub_srtp", s->sub_srtp,
				      "frames_sent", (json_int_t)c->frames_sent,
				      "keyframes_sent", (json_int_t)c->kf_sent,
				      "audio_frames_sent", (json_int_t)c->audio_sent,
				      "packets_received", (json_int_t)s->packets_received,
				      "nacks_sent", (json_int_t)s->nacks_sent,
				      "retransmits", (json_int_t)s->retransmits);

		json_object_set_new(o, "impair", c->impaired ? json_pack("{s:o, s:o}",
				    "out", impair_json(&s->impair_out), "in", impair_json(&s->impair_in))
				    : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

json_t *q_report_json(const struct q_bench *b, bool ok)
{
	json_t *streams = json_array(), *series = json_array(), *t = json_array(), *j;
	double psnr_min = INFINITY, mos_min = INFINITY;

	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		char name[80];

		if (!is_pair(p))
			continue;
		json_array_append_new(streams, video_json(b, p));
		json_array_append_new(streams, audio_json(b, p));
		psnr_min = fmin(psnr_min, p->v.psnr_mean);
		mos_min = fmin(mos_min, p->a.em.mos);
		for (int k = 0; k < 2; k++) {
			snprintf(name, sizeof(name), "%s>%s %s", b->cl[p->tx].name, b->cl[p->rx].name,
				 kind_name[k]);
			json_array_append_new(series, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}",
				"name", name, "kind", kind_name[k], "kbps", series_arr(b, p, k, 0),
				"loss_pct", series_arr(b, p, k, 1), "delay_ms", series_arr(b, p, k, 2),
				"psnr_db", k ? series_arr(b, p, k, 3) : json_array()));
		}
	}
	for (size_t s = 0; s < b->seconds; s++)
		json_array_append_new(t, json_integer((json_int_t)s + 1));
	j = json_pack("{s:s, s:b, s:s, s:s, s:f, s:I, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s?, s:s?}}",
		      "bench", "quality", "ok", ok, "server", b->o.server ? b->o.server : "(namespaced)",
		      "room", b->room, "duration_s", r3((double)(b->w1_us - b->w0_us) / 1e6),
		      "settle_ms", (json_int_t)b->settle_ms, "config",
		      "clients", (int)b->n, "width", (int)b->o.width, "height", (int)b->o.height,
		      "fps", (int)b->o.fps, "video_kbps", (int)b->o.video_kbps,
		      "audio_kbps", (int)b->o.audio_kbps, "srtp", b->o.srtp_name,
		      "impair", b->o.impair, "impair_kernel", b->o.impair_kernel);
	if (b->kernel_note[0])
		json_object_set_new(j, "kernel", json_string(b->kernel_note));
	json_object_set_new(j, "clients", clients_json(b));
	json_object_set_new(j, "streams", streams);
	json_object_set_new(j, "series", json_pack("{s:o, s:o}", "t", t, "streams", series));
	json_object_set_new(j, "summary", json_pack("{s:f, s:f}", "psnr_mean_min_db",
			    r3(isfinite(psnr_min) ? psnr_min : 0), "mos_min", r3(isfinite(mos_min) ? mos_min : 0)));
	return j;
}

/* ---- HTML ------------------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
				      "#8c564b", "#e377c2", "#17becf" };

/* A value of field for stream index si (pairs in order, kinds 0/1). */
static bool point(const struct q_pair *p, int k, int field, size_t s, double *v)
{
	const struct q_point *pt = &p->series[k][s];

	switch (field) {
	case 0: *v = pt->kbps; return true;
	case 1: *v = pt->loss_pct; return true;
	case 2: *v = pt->delay_ms; return pt->has_delay;
	default: *v = pt->psnr_db; return k == 1 && pt->has_psnr;
	}
}

static double nice_ceiling(double v)
{
	double m = pow(10, floor(log10(v > 0 ? v : 1))), r = v / m;

	return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * m;
}

/* One line plot: x = second of the window, one polyline per stream (a gap
 * where a second has no value). */
static void plot(FILE *f, const struct q_bench *b, int field, const char *title, const char *unit)
{
	const double W = 760, H = 260, L = 56, R = 170, T = 24, B = 34;
	double ymax = 0, v, xs = b->seconds > 1 ? (double)(b->seconds - 1) : 1;
	size_t line = 0;

	for (size_t i = 0; i < b->n * b->n; i++)
		for (int k = 0; k < 2 && is_pair(&b->pairs[i]); k++)
			for (size_t s = 0; s < b->seconds; s++)
				if (point(&b->pairs[i], k, field, s, &v) && v > ymax)
					ymax = v;
	ymax = nice_ceiling(ymax * 1.05);
	fprintf(f, "<h2>%s</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n", title, W, H, W, H, title);
	fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
		   "stroke=\"#999\"/>\n", L, T, W - L - R, H - T - B);
	for (int g = 0; g <= 4; g++) {
		double y = T + (H - T - B) * (1 - g / 4.0);
		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
			L, y, W - R, y, L - 4, y + 4, ymax * g / 4);
	}
	for (size_t s = 0; s < b->seconds; s += (b->seconds + 9) / 10) {
		double x = L + (W - L - R) * (double)s / xs;
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">%zu</text>\n",
			x, H - B + 14, s + 1);
	}
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">second of the "
		   "window</text><text x=\"12\" y=\"%.0f\" font-size=\"11\" transform=\"rotate(-90 12 %.0f)\">"
		   "%s</text>\n", L + (W - L - R) / 2, H - 4, T + (H - T - B) / 2, T + (H - T - B) / 2, unit);
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];

		for (int k = 0; k < 2 && is_pair(p); k++) {
			const char *col = colors[line % 8];
			bool open = false, any = false;

			if (field == 3 && k == 0)
				continue;
			for (size_t s = 0; s < b->seconds; s++) {
				double x = L + (W - L - R) * (double)s / xs, y;
				if (!point(p, k, field, s, &v)) {
					if (open)
						fputs("\"/>\n", f);
					open = false;
					continue;
				}
				y = T + (H - T - B) * (1 - v / ymax);
				if (!open)
					fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
						   "points=\"", col, k ? "" : " stroke-dasharray=\"5 3\"");
				fprintf(f, "%.1f,%.1f ", x, y);
				open = any = true;
			}
			if (open)
				fputs("\"/>\n", f);
			fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"%s\">%s&gt;%s %s%s</text>\n",
				W - R + 8, T + 14 + 16.0 * (double)line, col, b->cl[p->tx].name,
				b->cl[p->rx].name, kind_name[k], any ? "" : " (no data)");
			line++;
		}
	}
	fputs("</svg>\n", f);
}

static void html_tables(FILE *f, const struct q_bench *b)
{
	fputs("<h2>Video</h2>\n<table>\n<tr><th>stream</th><th>kbps</th><th>loss % (after repair)</th>"
	      "<th>NACKed %</th><th>fps</th><th>PSNR dB mean</th><th>PSNR min</th><th>SSIM</th>"
	      "<th>freezes</th><th>frozen ms</th><th>delay p50 ms</th><th>delay p95 ms</th>"
	      "<th>TTFF ms</th></tr>\n", f);
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		struct rtp_fig r;

		if (!is_pair(p))
			continue;
		rtp_of(b, p, 1, &r);
		fprintf(f, "<tr><td>%s&gt;%s</td><td>%.0f</td><td>%.2f</td><td>%.2f</td><td>%.1f</td>"
			   "<td>%.2f</td><td>%.2f</td><td>%.4f</td><td>%llu</td><td>%.0f</td><td>%.1f</td>"
			   "<td>%.1f</td><td>%.0f</td></tr>\n", b->cl[p->tx].name, b->cl[p->rx].name,
			r.kbps, r.loss_pct, r.nacked_pct, p->v.fps, p->v.psnr_mean, p->v.psnr_min,
			p->v.ssim_mean, (unsigned long long)p->v.freezes, p->v.freeze_ms, p->v.delay_p50,
			p->v.delay_p95, p->v.ttff_ms);
	}
	fputs("</table>\n<h2>Audio</h2>\n<table>\n<tr><th>stream</th><th>kbps</th>"
	      "<th>loss % (RTP)</th><th>concealed %</th><th>delay p50 ms</th><th>mouth-to-ear ms</th>"
	      "<th>xcorr</th><th>level dBFS</th><th>source dBFS</th><th>R</th><th>MOS</th></tr>\n", f);
	for (size_t i = 0; i < b->n * b->n; i++) {
		const struct q_pair *p = &b->pairs[i];
		struct rtp_fig r;

		if (!is_pair(p))
			continue;
		rtp_of(b, p, 0, &r);
		fprintf(f, "<tr><td>%s&gt;%s</td><td>%.0f</td><td>%.2f</td><td>%.2f</td><td>%.1f</td>"
			   "<td>%.1f</td><td>%.3f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.2f</td>"
			   "</tr>\n", b->cl[p->tx].name, b->cl[p->rx].name, r.kbps, r.loss_pct,
			p->a.loss_pct, p->a.delay_ms, p->a.mouth_to_ear_ms, p->a.corr, p->a.level_dbfs,
			p->a.src_level_dbfs, p->a.em.r, p->a.em.mos);
	}
	fputs("</table>\n", f);
}

int q_report_html(const struct q_bench *b, const char *path, bool ok)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<title>parley-bench quality</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
	      "table{border-collapse:collapse;margin:.5em 0}\n"
	      "td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}\n"
	      "th{background:#eee}td:first-child{text-align:left}\n"
	      ".bad{color:#b00}.good{color:#070}\n</style>\n</head>\n<body>\n", f);
	fprintf(f, "<h1>parley-bench quality</h1>\n<p class=\"%s\">%s</p>\n<p>", ok ? "good" : "bad",
		ok ? "Every stream carried media." : "Some stream carried no media (see the tables).");
	fprintf(f, "%zu participants in room ", b->n);
	esc(f, b->room);
	fputs(" on ", f);
	esc(f, b->o.server ? b->o.server : "a parleyd in network namespaces");
	fprintf(f, "; %.1f s measured after %.1f s of set-up; VP8 %ldx%ld at %ld fps, %ld kbit/s; "
		   "Opus %ld kbit/s; SRTP offer ", (double)(b->w1_us - b->w0_us) / 1e6,
		(double)b->settle_ms / 1000, b->o.width, b->o.height, b->o.fps, b->o.video_kbps,
		b->o.audio_kbps);
	esc(f, b->o.srtp_name);
	fputs(".", f);
	if (b->o.impair) {
		fputs(" Impairment of the last participant (both ways): ", f);
		esc(f, b->o.impair);
		fputs(".", f);
	}
	if (b->kernel_note[0]) {
		fputs(" Kernel impairment: ", f);
		esc(f, b->kernel_note);
		fputs(".", f);
	}
	fputs("</p>\n", f);
	html_tables(f, b);
	plot(f, b, 0, "Received bitrate per second", "kbit/s");
	plot(f, b, 1, "Loss after repair per second", "%");
	plot(f, b, 2, "Delay (video: capture to display; audio: capture to arrival)", "ms");
	plot(f, b, 3, "Video PSNR (luma) per second", "dB");
	fputs("<p>Solid lines: video; dashed: audio.  Loss is what NACK/RTX left missing; "
	      "the audio MOS is the ITU-T G.107 E-model from the 95th-percentile delay, the "
	      "concealed-frame rate and its burstiness (see docs/bench-quality.md).</p>\n"
	      "</body>\n</html>\n", f);
	return fclose(f) == 0 ? 0 : -1;
}
