/* tests/unit/test_chat.c: the chat store through its public header.
 *
 * Each test opens a store on a database in a fresh temporary directory,
 * submits requests, and waits on the store's fd with poll(), dispatching
 * until the expected number of callbacks ran (a timeout turns a lost
 * completion into a failure rather than a hang).  The callback records a
 * deep copy of each result, in the order the callbacks ran.
 */
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "chat/chat.h"
#include "common/clock.h"
#include "common/err.h"

#define WAIT_TIMEOUT_MS 60000

/* One completed request, copied out of its callback. */
struct rec {
	enum pl_chat_op op;
	int err;
	bool duplicate;
	struct pl_chat_msg msg;   /* APPEND; strings strdup'ed */
	size_t n;                 /* HISTORY */
	bool more;
	uint64_t *seqs;
	char **texts;
	uint64_t last_seq;        /* LAST_SEQ */
};

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	struct pl_chat_store *s;
	size_t submitted;         /* accepted requests */
	struct rec *recs;         /* completed, in callback order */
	size_t n, cap;
};

/* ---- fixture ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void on_result(void *ud, const struct pl_chat_result *res)
{
	struct fixture *f = ud;
	struct rec *r;

	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->recs = realloc(f->recs, f->cap * sizeof(*f->recs));
		assert_non_null(f->recs);
	}
	r = &f->recs[f->n++];
	memset(r, 0, sizeof(*r));
	r->op = res->op, r->err = res->err;
	if (res->err)
		return;
	if (res->op == PL_CHAT_OP_APPEND) {
		r->duplicate = res->duplicate;
		r->msg = *res->msg;
		r->msg.room = strdup(res->msg->room);
		r->msg.from_user = strdup(res->msg->from_user);
		r->msg.to_user = dup_or_null(res->msg->to_user);
		r->msg.text = strdup(res->msg->text);
		r->msg.client_msg_id = dup_or_null(res->msg->client_msg_id);
		r->msg.from_pid = r->msg.from_display = r->msg.to_pid = NULL;
	} else if (res->op == PL_CHAT_OP_HISTORY) {
		r->n = res->n, r->more = res->more;
		r->seqs = calloc(res->n + 1, sizeof(*r->seqs));
		r->texts = calloc(res->n + 1, sizeof(*r->texts));
		for (size_t i = 0; i < res->n; i++) {
			r->seqs[i] = res->msgs[i].seq;
			r->texts[i] = strdup(res->msgs[i].text);
		}
	} else {
		r->last_seq = res->last_seq;
	}
}

static void rec_release(struct rec *r)
{
	free((char *)r->msg.room);
	free((char *)r->msg.from_user);
	free((char *)r->msg.to_user);
	free((char *)r->msg.text);
	free((char *)r->msg.client_msg_id);
	for (size_t i = 0; i < r->n; i++)
		free(r->texts[i]);
	free(r->texts);
	free(r->seqs);
}

static void recs_clear(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++)
		rec_release(&f->recs[i]);
	f->n = 0;
	f->submitted = 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/pl_chat_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/chat.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *e;
	char file[PATH_MAX + 256];
	DIR *d;

	pl_chat_store_close(f->s);
	recs_clear(f);
	free(f->recs);
	d = opendir(f->dir);
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", f->dir, e->d_name);
		unlink(file);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void open_store(struct fixture *f, unsigned max_pending, unsigned max_batch)
{
	struct pl_chat_store_config cfg = {
		.path = f->path, .max_pending = max_pending, .max_batch = max_batch,
	};

	assert_null(f->s);
	assert_int_equal(pl_chat_store_open(&cfg, &f->s), 0);
	assert_true(pl_chat_store_fd(f->s) >= 0);
}

static void close_store(struct fixture *f)
{
	pl_chat_store_close(f->s);
	f->s = NULL;
}

/* Dispatches until every accepted request completed, or fails. */
static void wait_all(struct fixture *f)
{
	int64_t deadline = pl_clock_mono_ms() + WAIT_TIMEOUT_MS;

	while (f->n < f->submitted) {
		struct pollfd p = { .fd = pl_chat_store_fd(f->s), .events = POLLIN };
		int64_t left = deadline - pl_clock_mono_ms();
		int rc;

		if (left <= 0)
			fail_msg("timed out: %zu of %zu completions", f->n, f->submitted);
		rc = poll(&p, 1, (int)left);
		assert_true(rc >= 0);
		if (rc > 0)
			pl_chat_store_dispatch(f->s);
	}
	assert_int_equal(f->n, f->submitted);
}

/* ---- request helpers -------------------------------------------------- */

static int try_append(struct fixture *f, const struct pl_chat_msg *m)
{
	int rc = pl_chat_store_append(f->s, m, on_result, f);

	if (rc == 0)
		f->submitted++;
	return rc;
}

static struct pl_chat_msg msg(const char *room, const char *user, const char *text,
			      const char *cmid)
{
	struct pl_chat_msg m = {
		.room = room, .from_pid = "p-1", .from_user = user, .from_display = user,
		.text = text, .client_msg_id = cmid,
	};
	return m;
}

static void append(struct fixture *f, const char *room, const char *user,
		   const char *text, const char *cmid)
{
	struct pl_chat_msg m = msg(room, user, text, cmid);

	assert_int_equal(try_append(f, &m), 0);
}

static void dm(struct fixture *f, const char *room, const char *from, const char *to,
	       const char *text)
{
	struct pl_chat_msg m = msg(room, from, text, NULL);

	m.to_pid = "p-2", m.to_user = to;
	assert_int_equal(try_append(f, &m), 0);
}

enum page_kind { LATEST, BEFORE, AFTER };

static void history(struct fixture *f, const char *room, const char *user,
		    enum page_kind kind, uint64_t at, unsigned limit)
{
	struct pl_chat_query q = {
		.room = room, .user = user, .limit = limit,
		.has_before = kind == BEFORE, .before = at,
		.has_after = kind == AFTER, .after = at,
	};

	assert_int_equal(pl_chat_store_history(f->s, &q, on_result, f), 0);
	f->submitted++;
}

static void last_seq(struct fixture *f, const char *room)
{
	assert_int_equal(pl_chat_store_last_seq(f->s, room, on_result, f), 0);
	f->submitted++;
}

/* The last completion, which must be a successful `op`. */
static struct rec *last_rec(struct fixture *f, enum pl_chat_op op)
{
	struct rec *r;

	assert_true(f->n > 0);
	r = &f->recs[f->n - 1];
	assert_int_equal(r->op, op);
	assert_int_equal(r->err, 0);
	return r;
}

/* Runs one page query and checks its seqs (ascending) and `more`. */
static void check_page(struct fixture *f, const char *user, enum page_kind kind,
		       uint64_t at, unsigned limit, const uint64_t *want, size_t n_want,
		       bool more)
{
	struct rec *r;

	history(f, "r", user, kind, at, limit);
	wait_all(f);
	r = last_rec(f, PL_CHAT_OP_HISTORY);
	assert_int_equal(r->n, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_int_equal(r->seqs[i], want[i]);
	assert_int_equal(r->more, more);
}

#define PAGE(f, user, kind, at, limit, more, ...)                                \
	do {                                                                     \
		const uint64_t want_[] = { __VA_ARGS__ };                        \
		check_page((f), (user), (kind), (at), (limit), want_,            \
			   sizeof(want_) / sizeof(want_[0]), (more));            \
	} while (0)
#define EMPTY_PAGE(f, user, kind, at, limit)                                     \
	check_page((f), (user), (kind), (at), (limit), NULL, 0, false)

/* ---- tests ------------------------------------------------------------ */

static void test_chat_seq_per_room(void **state)
{
	struct fixture *f = *state;
	int64_t before_ms = pl_clock_wall_ms();
	static const char *const rooms[] = { "r1", "r2", "r1", "r1", "r2" };
	static const uint64_t seqs[] = { 1, 1, 2, 3, 2 };

	open_store(f, 0, 0);
	for (size_t i = 0; i < 5; i++)
		append(f, rooms[i], "alice", "hi", NULL);
	wait_all(f);
	for (size_t i = 0; i < 5; i++) {
		struct rec *r = &f->recs[i];

		assert_int_equal(r->op, PL_CHAT_OP_APPEND);
		assert_int_equal(r->err, 0);
		assert_false(r->duplicate);
		assert_string_equal(r->msg.room, rooms[i]);
		assert_int_equal(r->msg.seq, seqs[i]);
		assert_true(r->msg.ts_ms >= before_ms);
		assert_true(r->msg.ts_ms <= pl_clock_wall_ms());
	}
	assert_true(f->recs[3].msg.ts_ms >= f->recs[2].msg.ts_ms);
	assert_true(f->recs[2].msg.ts_ms >= f->recs[0].msg.ts_ms);
}

static void test_chat_dedupe(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_store_stats st;
	struct rec *r;

	open_store(f, 0, 0);
	append(f, "r", "alice", "first", "c1");
	append(f, "r", "alice", "other", NULL);
	wait_all(f);
	append(f, "r", "alice", "resent", "c1");
	wait_all(f);
	r = last_rec(f, PL_CHAT_OP_APPEND);
	assert_true(r->duplicate);
	assert_int_equal(r->msg.seq, 1);
	assert_int_equal(r->msg.ts_ms, f->recs[0].msg.ts_ms);
	assert_string_equal(r->msg.text, "first");
	assert_string_equal(r->msg.client_msg_id, "c1");

	PAGE(f, "alice", LATEST, 0, 50, false, 1, 2);
	r = last_rec(f, PL_CHAT_OP_HISTORY);
	assert_string_equal(r->texts[0], "first");
	pl_chat_store_get_stats(f->s, &st);
	assert_int_equal(st.appends, 2);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.failures, 0);
}

static void test_chat_dedupe_in_one_batch(void **state)
{
	struct fixture *f = *state;

	/* Submitted together: usually one transaction, where the second must
	 * still find the first, not yet committed, row. */
	open_store(f, 0, 0);
	append(f, "r", "alice", "one", "c1");
	append(f, "r", "alice", "two", "c1");
	append(f, "r", "alice", "three", "c2");
	wait_all(f);
	assert_false(f->recs[0].duplicate);
	assert_true(f->recs[1].duplicate);
	assert_int_equal(f->recs[1].msg.seq, 1);
	assert_string_equal(f->recs[1].msg.text, "one");
	assert_int_equal(f->recs[2].msg.seq, 2);
	PAGE(f, "alice", LATEST, 0, 10, false, 1, 2);
}

static void test_chat_dedupe_key_includes_user_and_room(void **state)
{
	struct fixture *f = *state;

	open_store(f, 0, 0);
	append(f, "r", "alice", "a", "c1");
	append(f, "r", "bob", "b", "c1");
	append(f, "q", "alice", "c", "c1");
	wait_all(f);
	for (size_t i = 0; i < 3; i++)
		assert_false(f->recs[i].duplicate);
	assert_int_equal(f->recs[0].msg.seq, 1);
	assert_int_equal(f->recs[1].msg.seq, 2);
	assert_int_equal(f->recs[2].msg.seq, 1);
	PAGE(f, "carol", LATEST, 0, 10, false, 1, 2);
}

static void test_chat_history_paging(void **state)
{
	struct fixture *f = *state;
	char text[16];

	open_store(f, 0, 0);
	EMPTY_PAGE(f, "alice", LATEST, 0, 10);
	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		append(f, "r", "alice", text, NULL);
	}
	wait_all(f);
	PAGE(f, "bob", LATEST, 0, 3, true, 8, 9, 10);
	PAGE(f, "bob", LATEST, 0, 10, false, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	PAGE(f, "bob", LATEST, 0, PL_CHAT_PAGE_MAX, false, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	PAGE(f, "bob", BEFORE, 8, 3, true, 5, 6, 7);
	PAGE(f, "bob", BEFORE, 4, 3, false, 1, 2, 3);
	PAGE(f, "bob", BEFORE, 3, 5, false, 1, 2);
	PAGE(f, "bob", BEFORE, UINT64_MAX, 2, true, 9, 10);
	EMPTY_PAGE(f, "bob", BEFORE, 1, 5);
	PAGE(f, "bob", AFTER, 0, 4, true, 1, 2, 3, 4);
	PAGE(f, "bob", AFTER, 6, 3, true, 7, 8, 9);
	PAGE(f, "bob", AFTER, 7, 3, false, 8, 9, 10);
	EMPTY_PAGE(f, "bob", AFTER, 10, 3);
	EMPTY_PAGE(f, "bob", AFTER, UINT64_MAX, 3);
	PAGE(f, "bob", AFTER, 8, 1, true, 9);
	assert_string_equal(last_rec(f, PL_CHAT_OP_HISTORY)->texts[0], "m9");
}

static void test_chat_dm_visibility(void **state)
{
	struct fixture *f = *state;

	open_store(f, 0, 0);
	append(f, "r", "alice", "room 1", NULL);        /* 1 */
	dm(f, "r", "alice", "bob", "a to b");           /* 2 */
	append(f, "r", "bob", "room 3", NULL);          /* 3 */
	dm(f, "r", "bob", "alice", "b to a");           /* 4 */
	append(f, "r", "carol", "room 5", NULL);        /* 5 */
	dm(f, "r", "carol", "carol", "note to self");   /* 6 */
	wait_all(f);
	assert_string_equal(f->recs[1].msg.to_user, "bob");

	PAGE(f, "alice", LATEST, 0, 10, false, 1, 2, 3, 4, 5);
	PAGE(f, "bob", LATEST, 0, 10, false, 1, 2, 3, 4, 5);
	PAGE(f, "carol", LATEST, 0, 10, false, 1, 3, 5, 6);
	PAGE(f, "dave", LATEST, 0, 10, false, 1, 3, 5);
	/* `more` counts only what the user may see. */
	PAGE(f, "dave", LATEST, 0, 2, true, 3, 5);
	PAGE(f, "dave", BEFORE, 3, 1, false, 1);
	PAGE(f, "dave", AFTER, 3, 1, false, 5);
	PAGE(f, "alice", LATEST, 0, 2, true, 4, 5);
	PAGE(f, "bob", BEFORE, 4, 2, true, 2, 3);
	PAGE(f, "bob", AFTER, 1, 2, true, 2, 3);
	PAGE(f, "alice", AFTER, 3, 5, false, 4, 5);
	assert_string_equal(last_rec(f, PL_CHAT_OP_HISTORY)->texts[0], "b to a");
}

static void test_chat_last_seq(void **state)
{
	struct fixture *f = *state;

	open_store(f, 0, 0);
	last_seq(f, "r");
	wait_all(f);
	assert_int_equal(last_rec(f, PL_CHAT_OP_LAST_SEQ)->last_seq, 0);
	append(f, "r", "alice", "a", NULL);
	dm(f, "r", "alice", "bob", "b");
	append(f, "r", "alice", "c", NULL);
	append(f, "other", "alice", "d", NULL);
	last_seq(f, "r");
	wait_all(f);
	assert_int_equal(last_rec(f, PL_CHAT_OP_LAST_SEQ)->last_seq, 3);
	last_seq(f, "nowhere");
	wait_all(f);
	assert_int_equal(last_rec(f, PL_CHAT_OP_LAST_SEQ)->last_seq, 0);
}

static void test_chat_reads_follow_appends(void **state)
{
	struct fixture *f = *state;
	static const enum pl_chat_op ops[] = {
		PL_CHAT_OP_APPEND, PL_CHAT_OP_APPEND, PL_CHAT_OP_HISTORY,
		PL_CHAT_OP_LAST_SEQ, PL_CHAT_OP_APPEND, PL_CHAT_OP_LAST_SEQ,
		PL_CHAT_OP_HISTORY,
	};

	/* Nothing is dispatched in between: each read must still see exactly
	 * the appends submitted before it, and completions keep their order. */
	open_store(f, 0, 0);
	append(f, "r", "alice", "a", NULL);
	append(f, "r", "alice", "b", NULL);
	history(f, "r", "alice", LATEST, 0, 10);
	last_seq(f, "r");
	append(f, "r", "alice", "c", NULL);
	last_seq(f, "r");
	history(f, "r", "alice", AFTER, 0, 10);
	wait_all(f);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(f->recs[i].op, ops[i]);
		assert_int_equal(f->recs[i].err, 0);
	}
	assert_int_equal(f->recs[2].n, 2);
	assert_int_equal(f->recs[3].last_seq, 2);
	assert_int_equal(f->recs[5].last_seq, 3);
	assert_int_equal(f->recs[6].n, 3);
	assert_string_equal(f->recs[6].texts[2], "c");
}

static void test_chat_persistence(void **state)
{
	struct fixture *f = *state;
	struct rec *r;

	open_store(f, 0, 0);
	append(f, "r", "alice", "one", "c1");
	dm(f, "r", "alice", "bob", "two");
	append(f, "r", "bob", "three", NULL);
	wait_all(f);
	close_store(f);

	open_store(f, 0, 0);
	last_seq(f, "r");
	append(f, "r", "carol", "four", NULL);
	append(f, "r", "alice", "one again", "c1");
	history(f, "r", "bob", LATEST, 0, 10);
	wait_all(f);
	assert_int_equal(f->recs[3].last_seq, 3);
	assert_int_equal(f->recs[4].msg.seq, 4);
	assert_true(f->recs[4].msg.ts_ms >= f->recs[2].msg.ts_ms);
	assert_true(f->recs[5].duplicate);
	assert_int_equal(f->recs[5].msg.seq, 1);
	r = &f->recs[6];
	assert_int_equal(r->n, 4);
	assert_string_equal(r->texts[0], "one");
	assert_string_equal(r->texts[1], "two");
	assert_string_equal(r->texts[2], "three");
	assert_string_equal(r->texts[3], "four");
}

static void test_chat_group_commit(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_store_stats st;
	enum { N = 5000 };
	char text[16];

	open_store(f, 0, 0);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		append(f, "r", "alice", text, NULL);
	}
	wait_all(f);
	for (int i = 0; i < N; i++) {
		struct rec *r = &f->recs[i];

		snprintf(text, sizeof(text), "m%d", i);
		assert_int_equal(r->err, 0);
		assert_int_equal(r->msg.seq, (uint64_t)i + 1);
		assert_string_equal(r->msg.text, text);
		if (i > 0)
			assert_true(r->msg.ts_ms >= f->recs[i - 1].msg.ts_ms);
	}
	pl_chat_store_get_stats(f->s, &st);
	assert_int_equal(st.appends, N);
	assert_true(st.transactions >= 1);
	assert_true(st.transactions < N);
	assert_true(st.max_batch_seen > 1);
	assert_true(st.max_batch_seen <= 1024);
	assert_int_equal(st.failures, 0);
	last_seq(f, "r");
	wait_all(f);
	assert_int_equal(last_rec(f, PL_CHAT_OP_LAST_SEQ)->last_seq, N);
}

static void test_chat_busy_when_full(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_msg m = msg("r", "alice", "x", NULL);
	struct pl_chat_query q = { .room = "r", .user = "alice", .limit = 1 };

	/* A request counts until its completion was dispatched, so with no
	 * dispatch the fifth is refused however fast the worker is. */
	open_store(f, 4, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(try_append(f, &m), 0);
	assert_int_equal(try_append(f, &m), PL_EBUSY);
	assert_int_equal(pl_chat_store_history(f->s, &q, on_result, f), PL_EBUSY);
	assert_int_equal(pl_chat_store_last_seq(f->s, "r", on_result, f), PL_EBUSY);
	wait_all(f);
	assert_int_equal(try_append(f, &m), 0);
	wait_all(f);
	assert_int_equal(f->n, 5);
	assert_int_equal(f->recs[4].msg.seq, 5);
}

static void test_chat_invalid_arguments(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_msg ok = msg("r", "alice", "x", NULL), m;
	struct pl_chat_query q = { .room = "r", .user = "alice", .limit = 10 }, bad;
	struct pl_chat_store_config cfg = { .path = f->path };
	struct pl_chat_store *s = NULL;

	open_store(f, 0, 0);
	assert_int_equal(pl_chat_store_append(f->s, NULL, on_result, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_append(f->s, &ok, NULL, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_append(NULL, &ok, on_result, f), PL_EINVAL);
	m = ok, m.room = NULL;
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.text = NULL;
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.from_pid = NULL;
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.from_user = NULL;
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.from_display = NULL;
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.to_pid = "p-2";   /* a DM without its user would be public */
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);
	m = ok, m.to_user = "bob";
	assert_int_equal(pl_chat_store_append(f->s, &m, on_result, f), PL_EINVAL);

	bad = q, bad.limit = 0;
	assert_int_equal(pl_chat_store_history(f->s, &bad, on_result, f), PL_EINVAL);
	bad = q, bad.limit = PL_CHAT_PAGE_MAX + 1;
	assert_int_equal(pl_chat_store_history(f->s, &bad, on_result, f), PL_EINVAL);
	bad = q, bad.room = NULL;
	assert_int_equal(pl_chat_store_history(f->s, &bad, on_result, f), PL_EINVAL);
	bad = q, bad.user = NULL;
	assert_int_equal(pl_chat_store_history(f->s, &bad, on_result, f), PL_EINVAL);
	bad = q, bad.has_before = bad.has_after = true;
	assert_int_equal(pl_chat_store_history(f->s, &bad, on_result, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_history(f->s, NULL, on_result, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_history(f->s, &q, NULL, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_last_seq(f->s, NULL, on_result, f), PL_EINVAL);
	assert_int_equal(pl_chat_store_last_seq(f->s, "r", NULL, f), PL_EINVAL);

	/* Nothing was queued: no completion may appear. */
	assert_int_equal(pl_chat_store_dispatch(f->s), 0);
	assert_int_equal(f->n, 0);

	cfg.backend = "postgres";
	assert_int_equal(pl_chat_store_open(&cfg, &s), PL_EINVAL);
	cfg.backend = "sqlite", cfg.path = NULL;
	assert_int_equal(pl_chat_store_open(&cfg, &s), PL_EINVAL);
	assert_int_equal(pl_chat_store_open(NULL, &s), PL_EINVAL);
	assert_null(s);
	pl_chat_store_close(NULL);
}

static void test_chat_open_unwritable(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 32];
	struct pl_chat_store_config cfg = { .path = path };
	struct pl_chat_store *s = NULL;

	snprintf(path, sizeof(path), "%s/missing/chat.db", f->dir);
	assert_int_equal(pl_chat_store_open(&cfg, &s), PL_EIO);
	assert_null(s);
}

static int query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_chat_schema(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_store_config cfg = { .path = f->path };
	struct pl_chat_store *s = NULL;
	sqlite3 *db;

	open_store(f, 0, 0);
	close_store(f);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
				   "name = 'messages_dedupe'"), 1);
	assert_int_equal(query_int(db, "SELECT journal_mode = 'wal' FROM "
				   "pragma_journal_mode"), 1);
	/* A database from a newer build is refused, not downgraded. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pl_chat_store_open(&cfg, &s), PL_EIO);
	assert_null(s);
}

static void test_chat_rollback_leaves_no_gap(void **state)
{
	struct fixture *f = *state;
	struct pl_chat_store_stats st;
	uint64_t next = 1;
	size_t ok = 0;
	sqlite3 *db;
	struct rec *r;

	/* A trigger makes the insert of "boom" fail inside the transaction. */
	open_store(f, 0, 0);
	close_store(f);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON messages"
				      " WHEN NEW.text = 'boom'"
				      " BEGIN SELECT RAISE(ABORT, 'boom'); END",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	open_store(f, 0, 0);
	append(f, "r", "alice", "a", NULL);
	append(f, "r", "alice", "boom", NULL);
	append(f, "r", "alice", "b", NULL);
	wait_all(f);
	assert_int_equal(f->recs[1].err, PL_EIO);
	append(f, "r", "alice", "c", NULL);
	wait_all(f);
	/* Whatever was batched with "boom" failed with it; the rest holds
	 * consecutive seqs from 1. */
	for (size_t i = 0; i < 4; i++) {
		r = &f->recs[i];
		if (r->err == 0) {
			assert_int_equal(r->msg.seq, next++);
			ok++;
		} else {
			assert_int_equal(r->err, PL_EIO);
		}
	}
	assert_int_equal(f->recs[3].err, 0);
	history(f, "r", "alice", LATEST, 0, 10);
	last_seq(f, "r");
	wait_all(f);
	assert_int_equal(f->recs[4].n, ok);
	assert_int_equal(f->recs[5].last_seq, ok);
	pl_chat_store_get_stats(f->s, &st);
	assert_int_equal(st.appends, ok);
	assert_int_equal(st.failures, 4 - ok);
}

static void test_chat_close_delivers_undispatched(void **state)
{
	struct fixture *f = *state;

	/* Close finishes accepted appends and runs their callbacks, so the
	 * caller's per-request state is never stranded. */
	open_store(f, 0, 0);
	append(f, "r", "alice", "a", NULL);
	append(f, "r", "alice", "b", NULL);
	append(f, "r", "alice", "c", NULL);
	close_store(f);
	assert_int_equal(f->n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(f->recs[i].err, 0);
		assert_int_equal(f->recs[i].msg.seq, i + 1);
	}
	recs_clear(f);
	open_store(f, 0, 0);
	last_seq(f, "r");
	wait_all(f);
	assert_int_equal(last_rec(f, PL_CHAT_OP_LAST_SEQ)->last_seq, 3);
}

static void test_chat_long_text(void **state)
{
	struct fixture *f = *state;
	size_t len = 100000;   /* well past the protocol's 4000 code points */
	char *text = malloc(len + 1);

	assert_non_null(text);
	for (size_t i = 0; i < len; i++)
		text[i] = (char)('a' + i % 26);
	text[len] = '\0';
	open_store(f, 0, 0);
	append(f, "r", "alice", text, NULL);
	history(f, "r", "alice", LATEST, 0, 1);
	wait_all(f);
	assert_string_equal(f->recs[0].msg.text, text);
	assert_string_equal(f->recs[1].texts[0], text);
	free(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_chat_seq_per_room),
		T(test_chat_dedupe),
		T(test_chat_dedupe_in_one_batch),
		T(test_chat_dedupe_key_includes_user_and_room),
		T(test_chat_history_paging),
		T(test_chat_dm_visibility),
		T(test_chat_last_seq),
		T(test_chat_reads_follow_appends),
		T(test_chat_persistence),
		T(test_chat_group_commit),
		T(test_chat_busy_when_full),
		T(test_chat_invalid_arguments),
		T(test_chat_open_unwritable),
		T(test_chat_schema),
		T(test_chat_rollback_leaves_no_gap),
		T(test_chat_close_delivers_undispatched),
		T(test_chat_long_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
