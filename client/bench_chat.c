/* client/bench_chat.c: `parley-bench chat`, the chat load benchmark.
 *
 * M sender and L listener WebSocket connections join one room.  Senders
 * send `chat` messages either open loop (--rate: a fixed total offered
 * load, spread evenly over the senders and paced from the monotonic clock)
 * or closed loop (--window messages in flight per sender, for maximum
 * throughput).  Each text carries its sender, its per-sender number and
 * its scheduled send time, so every receiver can compute the fan-out
 * latency on its own; all connections live in this one process, so one
 * monotonic clock serves both ends.  Latencies are measured from the
 * *scheduled* send time, not from when the socket became writable, so a
 * server that stalls is charged for the messages it kept us from sending
 * (coordinated omission).
 *
 * A run: connect and join everyone; warm up (excluded from the figures);
 * measure for --duration seconds -- a message belongs to the measurement
 * when its scheduled send time falls inside that window; stop sending and
 * drain (bounded) until every outstanding ack and fan-out has arrived;
 * print a summary and one JSON line (bench_chat_report.c, which also
 * parses the options).  Memory is bounded: a fixed ring of
 * in-flight send times per sender and two fixed-size histograms.
 *
 * Timing comes from a timerfd adopted into the lws loop, not from lws's
 * own timers: lws 4.1 rounds its poll timeout down to a millisecond and
 * then spins with zero timeouts until a timer is due, which at 1,000
 * msgs/s over ten senders kept a whole core busy polling, next to the
 * server being measured.  The timerfd ticks every millisecond in open loop
 * (pacing) and every TICK_MS otherwise.  With millisecond pacing a message
 * may go up to PACE_SLACK_US before its scheduled time; it is then timed
 * from when it actually went, never from a later instant.
 *
 * Thread: everything runs on one lws service loop; the only other actor is
 * the SIGINT/SIGTERM handler, which sets a flag the loop's tick reads.
 */
#include "client/bench_chat.h"
#include "common/clock.h"
#include "common/err.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define PROTOCOL_NAME "parley.v1"
#define TIMER_PROTOCOL_NAME "parley-bench-timer"
#define RX_MAX_BYTES (1u << 20)     /* one reassembled server message */
#define PACE_SLACK_US 1000          /* open loop: how early a message may go */
#define PACE_MS 1                   /* open loop: the pacing timer's period */
#define TICK_MS 50                  /* phase changes, progress, timeouts */
#define JOIN_TIMEOUT_US (15 * 1000000LL)
#define JOIN_ID "j"                 /* the join request's id; chat ids are integers */

enum role { ROLE_SENDER, ROLE_LISTENER };
enum conn_state { CONN_CONNECTING, CONN_JOINING, CONN_JOINED, CONN_LOST };
enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE };
enum plan { PLAN_NOW, PLAN_LATER, PLAN_BLOCKED, PLAN_STOP };

struct chat_bench;

struct conn {
	struct chat_bench *b;
	struct lws *wsi;
	enum role role;
	enum conn_state state;
	int index;                  /* within its role */
	bool join_pending;
	/* sender */
	uint64_t next_k;            /* number of the next message; also its request id */
	uint32_t inflight;
	int64_t *slots;             /* PL_BENCH_CHAT_RING_SLOTS scheduled send times; 0 = free */
	/* receive reassembly */
	char *rx;
	size_t rx_len;
	bool rx_overflow;
};

struct chat_bench {
	struct pl_bench_chat_opts o;
	struct lws_context *ctx;
	struct conn *conns;
	size_t n_conns, joined, lost;
	enum phase phase;
	int timer_fd;               /* owned by lws once adopted */
	int64_t next_tick_us;
	int64_t t_connect_us, t_warm_us, t_meas_us, t_end_us, t_deadline_us, t_progress_us;
	double interval_us;         /* per sender, open loop */
	double cpu_meas_s, cpu_end_s;
	struct pl_bench_chat_stats st, st_progress;
	struct pl_bench_hist *ack_hist, *fan_hist;
	char failure[256];
	char pad[PL_BENCH_CHAT_TEXT_MAX_BYTES + 1];
	unsigned char tx[LWS_PRE + PL_BENCH_CHAT_TEXT_MAX_BYTES + 256];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted++;
}

/* Ends the run; the service loop sees it when lws_service() returns,
 * which lws_cancel_service() makes immediate. */
static void finish(struct chat_bench *b)
{
	b->phase = PH_DONE;
	if (b->ctx)
		lws_cancel_service(b->ctx);
}

/* Ends the run; the first reason ("what" or "what: detail") is kept. */
static void fail(struct chat_bench *b, const char *what, const char *detail)
{
	if (!b->failure[0])
		snprintf(b->failure, sizeof(b->failure), "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	finish(b);
}

static bool is_open_loop(const struct chat_bench *b)
{
	return pl_bench_chat_is_open_loop(&b->o);
}

static bool in_window(const struct chat_bench *b, int64_t t_us)
{
	return b->t_meas_us && t_us >= b->t_meas_us && t_us < b->t_end_us;
}

/* ---- sending -------------------------------------------------------------- */

static int64_t scheduled_us(const struct chat_bench *b, const struct conn *c, uint64_t k)
{
	/* Senders are staggered by a fraction of the interval so that the
	 * offered load is smooth rather than M messages at once. */
	double off = ((double)k + (double)c->index / (double)b->o.senders) * b->interval_us;
	return b->t_warm_us + (int64_t)off;
}

/* Decides whether c may send its next message now.  *due_us is the send
 * time charged to it: the schedule in open loop, now in closed loop. */
static enum plan sender_plan(struct chat_bench *b, struct conn *c, int64_t now, int64_t *due_us)
{
	if (c->state != CONN_JOINED || b->phase < PH_WARMUP || b->phase > PH_DRAIN)
		return PLAN_STOP;
	if (!is_open_loop(b)) {
		if (b->phase == PH_DRAIN)
			return PLAN_STOP;
		if (c->inflight >= (uint32_t)b->o.window || c->slots[c->next_k & (PL_BENCH_CHAT_RING_SLOTS - 1)])
			return PLAN_BLOCKED;
		*due_us = now;
		return PLAN_NOW;
	}
	*due_us = scheduled_us(b, c, c->next_k);
	if (b->phase == PH_DRAIN && *due_us >= b->t_end_us)
		return PLAN_STOP;
	if (c->slots[c->next_k & (PL_BENCH_CHAT_RING_SLOTS - 1)])
		return PLAN_BLOCKED;
	if (*due_us > now + PACE_SLACK_US)
		return PLAN_LATER;
	/* Early by less than the slack: send now, and count from now. */
	if (*due_us > now)
		*due_us = now;
	return PLAN_NOW;
}

/* Asks for a writable callback if c has a message to send now; otherwise
 * the pacing timer or an ack calls again. */
static void sender_kick(struct chat_bench *b, struct conn *c, int64_t now)
{
	int64_t due;

	switch (sender_plan(b, c, now, &due)) {
	case PLAN_NOW:
		lws_callback_on_writable(c->wsi);
		break;
	case PLAN_BLOCKED:
		if (is_open_loop(b))
			b->st.stalls++;
		break;
	case PLAN_LATER:
	case PLAN_STOP:
		break;
	}
}

static int write_text(struct conn *c, size_t len)
{
	unsigned char *p = c->b->tx + LWS_PRE;

	if (lws_write(c->wsi, p, len, LWS_WRITE_TEXT) < (int)len) {
		fail(c->b, "write failed", c->role == ROLE_SENDER ? "a sender" : "a listener");
		return -1;
	}
	return 0;
}

static int send_join(struct conn *c)
{
	struct chat_bench *b = c->b;
	int n;

	c->join_pending = false;
	n = snprintf((char *)b->tx + LWS_PRE, sizeof(b->tx) - LWS_PRE,
		     "{\"type\":\"join\",\"id\":\"" JOIN_ID "\",\"room\":\"%s\",\"display\":\"bench-%c%d\"}",
		     b->o.room, c->role == ROLE_SENDER ? 's' : 'l', c->index);
	return write_text(c, (size_t)n);
}

/* Writes message c->next_k with the text "pb SENDER K DUE_US " padded
 * with 'x' to --size bytes.  Only [0-9a-z ] so no JSON escaping. */
static int send_chat(struct chat_bench *b, struct conn *c, int64_t due)
{
	char *p = (char *)b->tx + LWS_PRE;
	size_t cap = sizeof(b->tx) - LWS_PRE;
	int n, hdr;

	n = snprintf(p, cap, "{\"type\":\"chat\",\"id\":%llu,\"text\":\"", (unsigned long long)c->next_k);
	hdr = snprintf(p + n, cap - (size_t)n, "pb %d %llu %lld ", c->index, (unsigned long long)c->next_k,
		       (long long)due);
	n += hdr;
	if (hdr < b->o.size_bytes) {
		memcpy(p + n, b->pad, (size_t)(b->o.size_bytes - hdr));
		n += (int)(b->o.size_bytes - hdr);
	}
	memcpy(p + n, "\"}", 2);
	n += 2;
	if (write_text(c, (size_t)n) < 0)
		return -1;
	c->slots[c->next_k & (PL_BENCH_CHAT_RING_SLOTS - 1)] = due;
	c->next_k++;
	c->inflight++;
	if (in_window(b, due))
		b->st.sent++;
	return 0;
}

static int on_writeable(struct conn *c)
{
	struct chat_bench *b = c->b;
	int64_t now = pl_clock_mono_us(), due;

	if (c->join_pending)
		return send_join(c);
	if (c->role != ROLE_SENDER || sender_plan(b, c, now, &due) != PLAN_NOW)
		return 0;
	if (send_chat(b, c, due) < 0)
		return -1;
	sender_kick(b, c, now);
	return 0;
}

/* ---- receiving ------------------------------------------------------------ */

/* Finds top-level-looking `"key":` in a compact or spaced JSON object and
 * returns its value, or NULL.  Good enough for the server's replies to us:
 * every string in them is one we chose (room, display, text) or escaped,
 * so a key cannot be forged from inside a value.  Anything it cannot
 * handle falls back to jansson. */
static const char *json_value(const char *buf, size_t len, const char *key, const char **end)
{
	char pat[32];
	int plen = snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = memmem(buf, len, pat, (size_t)plen);

	*end = buf + len;
	if (!p)
		return NULL;
	for (p += plen; p < *end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'); p++)
		;
	if (p == *end || *p != ':')
		return NULL;
	for (p++; p < *end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'); p++)
		;
	return p < *end ? p : NULL;
}

/* Parses a non-negative decimal at *p (bounded by end), advancing *p. */
static bool parse_u64(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	while (*p < end && **p >= '0' && **p <= '9' && v < UINT64_MAX / 10)
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	*out = v;
	return *p > s;
}

/* An ack (code NULL) or an error reply for message id; false if no such
 * message is in flight. */
static bool complete_request(struct conn *c, uint64_t id, int64_t now, const char *code)
{
	struct chat_bench *b = c->b;
	int64_t *slot, due;

	/* The slot is message id's only while id is among the last
	 * PL_BENCH_CHAT_RING_SLOTS sent: a message is never sent while its
	 * slot is still taken. */
	if (c->role != ROLE_SENDER || id >= c->next_k || c->next_k - id > PL_BENCH_CHAT_RING_SLOTS ||
	    !*(slot = &c->slots[id & (PL_BENCH_CHAT_RING_SLOTS - 1)]))
		return false;
	due = *slot;
	*slot = 0;
	c->inflight--;
	if (!code) {
		b->st.total_acked++;
		if (now - due > b->st.max_ack_us)
			b->st.max_ack_us = now - due;
		if (in_window(b, due)) {
			b->st.acked++;
			pl_bench_hist_record(b->ack_hist, now - due);
		}
	} else {
		/* Errors count in every phase: one during warm-up is news too. */
		if (strcmp(code, "rate_limited") == 0)
			b->st.rate_limited++;
		else
			b->st.error_replies++;
	}
	sender_kick(b, c, now);
	return true;
}

/* A chat event's text: "pb SENDER K DUE_US ...". */
static void on_chat_text(struct conn *c, const char *p, const char *end, int64_t now)
{
	struct chat_bench *b = c->b;
	uint64_t sender, k, due;

	if (end - p < 3 || memcmp(p, "pb ", 3) != 0) {
		b->st.foreign++;
		return;
	}
	p += 3;
	if (!parse_u64(&p, end, &sender) || p == end || *p++ != ' ' || !parse_u64(&p, end, &k) ||
	    p == end || *p++ != ' ' || !parse_u64(&p, end, &due)) {
		b->st.foreign++;
		return;
	}
	if (c->role == ROLE_SENDER) {
		b->st.echoes += in_window(b, (int64_t)due);
		return;
	}
	b->st.total_delivered++;
	if (in_window(b, (int64_t)due)) {
		b->st.delivered++;
		pl_bench_hist_record(b->fan_hist, now - (int64_t)due);
	}
}

static void on_joined(struct conn *c, int64_t now)
{
	struct chat_bench *b = c->b;

	if (c->state != CONN_JOINING)
		return;
	c->state = CONN_JOINED;
	if (++b->joined < b->n_conns)
		return;
	/* Everyone is in: the clock starts now. */
	b->phase = PH_WARMUP;
	b->t_warm_us = now;
	b->t_meas_us = now + (int64_t)(b->o.warmup_s * 1e6);
	b->t_end_us = b->t_meas_us + (int64_t)(b->o.duration_s * 1e6);
	b->t_progress_us = now;
	fprintf(stderr, "parley-bench chat: %zu connections joined in %.0f ms; warming up\n", b->n_conns,
		(double)(now - b->t_connect_us) / 1000.0);
	for (size_t i = 0; i < b->n_conns; i++) {
		if (b->conns[i].role == ROLE_SENDER)
			sender_kick(b, &b->conns[i], now);
	}
}

/* The rare messages (joined, participant, error, ...) go through jansson. */
static void on_message_slow(struct conn *c, const char *buf, size_t len, int64_t now)
{
	json_t *m = json_loadb(buf, len, 0, NULL);
	const char *type = json_string_value(json_object_get(m, "type"));
	json_t *id = json_object_get(m, "id");
	const char *code = json_string_value(json_object_get(m, "code"));

	if (!type) {
		c->b->st.unparsed++;
	} else if (strcmp(type, "joined") == 0) {
		on_joined(c, now);
	} else if (strcmp(type, "error") == 0 && json_is_string(id) && strcmp(json_string_value(id), JOIN_ID) == 0) {
		fail(c->b, "join refused", json_string_value(json_object_get(m, "message")));
	} else if (strcmp(type, "error") == 0) {
		/* Errors that answer no message of ours count too. */
		if (!json_is_integer(id) || json_integer_value(id) < 0 ||
		    !complete_request(c, (uint64_t)json_integer_value(id), now, code ? code : "unknown"))
			c->b->st.error_replies++;
	} else if (strcmp(type, "ack") == 0 && json_is_integer(id) && json_integer_value(id) >= 0) {
		complete_request(c, (uint64_t)json_integer_value(id), now, NULL);
	} else if (strcmp(type, "chat") == 0 && json_is_string(json_object_get(m, "text"))) {
		const char *t = json_string_value(json_object_get(m, "text"));
		on_chat_text(c, t, t + strlen(t), now);
	}
	json_decref(m);
}

/* The hot path: acks and chat events are scanned without building a tree;
 * at 10,000 msgs/s into a room of 20 that is 200,000 events a second. */
static void on_message(struct conn *c, const char *buf, size_t len)
{
	int64_t now = pl_clock_mono_us();
	const char *end, *t = json_value(buf, len, "type", &end), *v;
	uint64_t id;

	if (t && end - t >= 6 && memcmp(t, "\"chat\"", 6) == 0) {
		v = json_value(buf, len, "text", &end);
		const char *q = v ? memchr(v + 1, '"', (size_t)(end - v - 1)) : NULL;
		if (v && *v == '"' && q && !memchr(v + 1, '\\', (size_t)(q - v - 1))) {
			on_chat_text(c, v + 1, q, now);
			return;
		}
	} else if (t && end - t >= 5 && memcmp(t, "\"ack\"", 5) == 0) {
		v = json_value(buf, len, "id", &end);
		if (v && parse_u64(&v, end, &id)) {
			complete_request(c, id, now, NULL);
			return;
		}
	}
	on_message_slow(c, buf, len, now);
}

static void on_receive(struct conn *c, struct lws *wsi, const char *in, size_t len)
{
	bool final = lws_is_final_fragment(wsi);

	if (lws_frame_is_binary(wsi))
		return;
	if (final && c->rx_len == 0 && !c->rx_overflow) {
		on_message(c, in, len);   /* the common case: one whole frame, no copy */
		return;
	}
	if (!c->rx_overflow && c->rx_len + len <= RX_MAX_BYTES) {
		if (!c->rx)
			c->rx = malloc(RX_MAX_BYTES);
		if (!c->rx)
			abort();
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	} else {
		c->rx_overflow = true;
	}
	if (!final)
		return;
	if (c->rx_overflow)
		c->b->st.unparsed++;
	else
		on_message(c, c->rx, c->rx_len);
	c->rx_len = 0;
	c->rx_overflow = false;
}

/* ---- connections ---------------------------------------------------------- */

static void conn_lost(struct conn *c, const char *why)
{
	struct chat_bench *b = c->b;

	if (c->state == CONN_LOST)
		return;
	c->state = CONN_LOST;
	c->wsi = NULL;
	if (b->phase == PH_DONE)
		return;
	b->lost++;
	fail(b, why, NULL);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;
	char why[160];

	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = CONN_JOINING;
		c->join_pending = true;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		on_receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(why, sizeof(why), "connection failed: %.*s", in ? (int)len : 13, in ? (const char *)in : "unknown error");
		conn_lost(c, why);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		snprintf(why, sizeof(why), "server closed a %s connection (code %d)",
			 c->role == ROLE_SENDER ? "sender" : "listener",
			 len >= 2 ? ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1] : 0);
		conn_lost(c, why);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_lost(c, c->role == ROLE_SENDER ? "a sender connection closed" : "a listener connection closed");
		break;
	default:
		break;
	}
	return 0;
}

static int connect_one(struct chat_bench *b, struct conn *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = b->ctx;
	ci.address = b->o.url.host;
	ci.port = b->o.url.port;
	ci.path = b->o.url.path;
	ci.host = b->o.url.host;
	ci.origin = b->o.url.host;
	ci.protocol = PROTOCOL_NAME;
	ci.local_protocol_name = PROTOCOL_NAME;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	if (b->o.url.is_tls)
		ci.ssl_connection = LCCSCF_USE_SSL |
				    (b->o.insecure ? LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK : 0);
	if (!lws_client_connect_via_info(&ci)) {
		c->state = CONN_LOST;
		fail(b, "cannot connect", b->o.server);
		return PL_EIO;
	}
	return 0;
}

/* ---- the run -------------------------------------------------------------- */

/* True once nothing is in flight, nothing of the window is left to send,
 * and every listener has every acked message. */
static bool is_drained(const struct chat_bench *b)
{
	for (size_t i = 0; i < b->n_conns; i++) {
		const struct conn *c = &b->conns[i];
		if (c->role != ROLE_SENDER)
			continue;
		if (c->inflight)
			return false;
		if (is_open_loop(b) && scheduled_us(b, c, c->next_k) < b->t_end_us)
			return false;
	}
	return b->st.delivered >= b->st.acked * (uint64_t)b->o.listeners;
}

static void print_progress(struct chat_bench *b, int64_t now)
{
	double dt = (double)(now - b->t_progress_us) / 1e6;
	uint32_t inflight = 0;

	if (dt < 1.0)
		return;
	for (size_t i = 0; i < b->n_conns; i++)
		inflight += b->conns[i].inflight;
	fprintf(stderr, "  [%-7s %5.1f s] acked %7.0f/s  delivered %8.0f/s  ack max %6.1f ms  in flight %u  errors %llu\n",
		b->phase == PH_WARMUP ? "warm-up" : b->phase == PH_MEASURE ? "measure" : "drain",
		(double)(now - b->t_warm_us) / 1e6,
		(double)(b->st.total_acked - b->st_progress.total_acked) / dt,
		(double)(b->st.total_delivered - b->st_progress.total_delivered) / dt,
		(double)b->st.max_ack_us / 1000.0, inflight, (unsigned long long)(b->st.rate_limited + b->st.error_replies));
	b->st.max_ack_us = 0;
	b->st_progress = b->st;
	b->t_progress_us = now;
}

static void end_measurement(struct chat_bench *b, int64_t now)
{
	if (now < b->t_end_us)
		b->t_end_us = now;   /* interrupted: the window ends here */
	b->cpu_end_s = pl_bench_cpu_seconds();
	b->phase = PH_DRAIN;
	b->t_deadline_us = now + (int64_t)(b->o.drain_s * 1e6);
	for (size_t i = 0; i < b->n_conns; i++) {
		if (b->conns[i].role == ROLE_SENDER)
			sender_kick(b, &b->conns[i], now);
	}
}

/* Every TICK_MS: phase changes, time-outs, progress. */
static void on_tick(struct chat_bench *b, int64_t now)
{
	switch (b->phase) {
	case PH_CONNECT:
		if (interrupted)
			fail(b, "interrupted", NULL);
		else if (now - b->t_connect_us > JOIN_TIMEOUT_US)
			fail(b, "timed out connecting and joining", NULL);
		break;
	case PH_WARMUP:
		if (interrupted)
			fail(b, "interrupted during warm-up", NULL);
		else if (now >= b->t_meas_us) {
			b->phase = PH_MEASURE;
			b->cpu_meas_s = pl_bench_cpu_seconds();
		}
		break;
	case PH_MEASURE:
		if (interrupted || now >= b->t_end_us)
			end_measurement(b, now);
		break;
	case PH_DRAIN:
		if (interrupted > 1 || now >= b->t_deadline_us || is_drained(b))
			finish(b);
		break;
	case PH_DONE:
		break;
	}
	if (b->phase == PH_WARMUP || b->phase == PH_MEASURE || b->phase == PH_DRAIN)
		print_progress(b, now);
}

static void on_timer(struct chat_bench *b)
{
	int64_t now = pl_clock_mono_us();
	uint64_t expirations;

	if (read(b->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;   /* EAGAIN: nothing expired after all */
	if (is_open_loop(b) && b->phase >= PH_WARMUP && b->phase <= PH_DRAIN) {
		for (size_t i = 0; i < b->n_conns; i++) {
			if (b->conns[i].role == ROLE_SENDER)
				sender_kick(b, &b->conns[i], now);
		}
	}
	if (now >= b->next_tick_us) {
		b->next_tick_us = now + TICK_MS * 1000;
		on_tick(b, now);
	}
}

static int timer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct chat_bench *b = lws_context_user(lws_get_context(wsi));

	if (reason == LWS_CALLBACK_RAW_RX_FILE && b && b->phase != PH_DONE)
		on_timer(b);
	return 0;
}

/* A periodic timerfd handed to lws as a raw file; lws closes it. */
static int timer_start(struct chat_bench *b)
{
	long period_ms = is_open_loop(b) ? PACE_MS : TICK_MS;
	struct itimerspec its = { .it_interval = { 0, period_ms * 1000000L }, .it_value = { 0, period_ms * 1000000L } };
	struct lws_vhost *vh = lws_get_vhost_by_name(b->ctx, "default");
	lws_sock_file_fd_type fd;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (tfd < 0)
		return PL_ESYS;
	fd.filefd = tfd;
	if (!vh || timerfd_settime(tfd, 0, &its, NULL) < 0 ||
	    !lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, TIMER_PROTOCOL_NAME, NULL)) {
		close(tfd);
		return PL_ESYS;
	}
	b->timer_fd = tfd;
	return 0;
}

/* ---- report (bench_chat_report.c) ------------------------------------------ */

/* Measured messages still without an ack: their slots are still taken. */
static uint64_t count_unacked(const struct chat_bench *b)
{
	uint64_t n = 0;

	for (size_t i = 0; i < b->n_conns; i++) {
		const struct conn *c = &b->conns[i];
		for (uint32_t k = 0; c->slots && k < PL_BENCH_CHAT_RING_SLOTS; k++)
			n += in_window(b, c->slots[k]);
	}
	return n;
}

static int report(const struct chat_bench *b)
{
	struct pl_bench_chat_result r = {
		.o = &b->o, .st = &b->st, .ack_hist = b->ack_hist, .fan_hist = b->fan_hist,
		.t_meas_us = b->t_meas_us, .t_end_us = b->t_end_us,
		.cpu_meas_s = b->cpu_meas_s, .cpu_end_s = b->cpu_end_s,
		.unacked = count_unacked(b), .lost = b->lost, .failure = b->failure,
	};

	return pl_bench_chat_report(&r);
}


static const struct lws_protocols protocols[] = {
	{ PROTOCOL_NAME, ws_callback, 0, 65536, 0, NULL, 0 },
	{ TIMER_PROTOCOL_NAME, timer_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int bench_setup(struct chat_bench *b)
{
	struct lws_context_creation_info info;

	b->timer_fd = -1;
	b->n_conns = (size_t)(b->o.senders + b->o.listeners);
	b->conns = calloc(b->n_conns, sizeof(*b->conns));
	b->ack_hist = malloc(sizeof(*b->ack_hist));
	b->fan_hist = malloc(sizeof(*b->fan_hist));
	if (!b->conns || !b->ack_hist || !b->fan_hist)
		return PL_ENOMEM;
	pl_bench_hist_init(b->ack_hist);
	pl_bench_hist_init(b->fan_hist);
	memset(b->pad, 'x', sizeof(b->pad) - 1);
	if (is_open_loop(b))
		b->interval_us = (double)b->o.senders * 1e6 / b->o.rate;
	for (size_t i = 0; i < b->n_conns; i++) {
		struct conn *c = &b->conns[i];
		c->b = b;
		c->role = i < (size_t)b->o.senders ? ROLE_SENDER : ROLE_LISTENER;
		c->index = c->role == ROLE_SENDER ? (int)i : (int)(i - (size_t)b->o.senders);
		if (c->role == ROLE_SENDER && !(c->slots = calloc(PL_BENCH_CHAT_RING_SLOTS, sizeof(*c->slots))))
			return PL_ENOMEM;
	}
	pl_bench_raise_fd_limit(b->n_conns + 64);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;   /* still makes the "default" vhost */
	info.protocols = protocols;
	info.user = b;
	info.gid = -1;
	info.uid = -1;
	if (b->o.url.is_tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (!(b->ctx = lws_create_context(&info)))
		return PL_EIO;
	return timer_start(b);
}

static void bench_release(struct chat_bench *b)
{
	if (b->ctx) {
		b->phase = PH_DONE;    /* closes from here on are ours */
		lws_context_destroy(b->ctx);
	}
	for (size_t i = 0; b->conns && i < b->n_conns; i++) {
		free(b->conns[i].slots);
		free(b->conns[i].rx);
	}
	free(b->conns);
	free(b->ack_hist);
	free(b->fan_hist);
}

static void run(struct chat_bench *b)
{
	b->t_connect_us = pl_clock_mono_us();
	for (size_t i = 0; i < b->n_conns && b->phase != PH_DONE; i++)
		connect_one(b, &b->conns[i]);
	b->next_tick_us = b->t_connect_us + TICK_MS * 1000;
	while (b->phase != PH_DONE) {
		if (lws_service(b->ctx, 0) < 0) {
			fail(b, "the lws service loop failed", NULL);
			break;
		}
	}
	if (b->t_end_us && !b->cpu_end_s)
		b->cpu_end_s = pl_bench_cpu_seconds();
}

int pl_bench_chat_main(int argc, char **argv)
{
	struct chat_bench *b = calloc(1, sizeof(*b));
	struct sigaction sa;
	int rc;

	if (!b)
		return 1;
	rc = pl_bench_chat_opts_parse(argc, argv, &b->o);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "Try 'parley-bench chat --help'.\n");
		free(b);
		return rc > 0 ? 0 : 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bench_setup(b) < 0) {
		fprintf(stderr, "parley-bench chat: cannot set up (%s)\n",
			b->ctx ? "pacing timer" : b->conns ? "lws context" : "out of memory");
		bench_release(b);
		free(b);
		return 1;
	}
	run(b);
	rc = report(b) < 0 || b->failure[0] || b->st.acked == 0 ? 1 : 0;
	if (b->failure[0])
		fprintf(stderr, "parley-bench chat: %s\n", b->failure);
	else if (b->st.acked == 0)
		fprintf(stderr, "parley-bench chat: no message was acked\n");
	bench_release(b);
	free(b);
	return rc;
}
