/* chat/store.c: the chat store's front: validation, the request queue, the
 * worker thread, and completion dispatch.
 *
 * The owner thread (signaling) submits requests.  Each is validated, copied
 * (the caller's strings are borrowed only for the call) and appended to a
 * bounded FIFO under one mutex.  A request counts against max_pending from
 * the moment it is accepted until its completion has been dispatched, so
 * the bound covers every byte the store holds on the caller's behalf and
 * PL_EBUSY is deterministic: it does not depend on how far the worker got.
 *
 * One worker thread takes up to max_batch requests at a time and runs them
 * through the backend in submission order.  A run of consecutive appends
 * becomes one transaction (group commit: while one fsync is in flight, the
 * next appends queue up and share the following one).  A read ends the run
 * and executes after the appends before it committed, so it sees them, and
 * before the appends after it, so it never sees a row that could still be
 * rolled back.  If a transaction fails the backend stored none of it, and
 * every append of that run completes with PL_EIO.
 *
 * Finished requests move, still in submission order, to the completed list
 * and the eventfd is written.  pl_chat_store_dispatch(), on the owner
 * thread, drains the eventfd, takes the whole list, runs the callbacks and
 * frees each request after its callback returned.  Callbacks may submit new
 * requests; they must not close the store.  Close closes the eventfd, so the
 * owner takes it out of its poll set first.
 *
 * The backend (store_backend.h) runs on the worker thread only, between an
 * open before the thread starts and a close after it was joined.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chat/chat.h"
#include "chat/store_backend.h"
#include "common/err.h"
#include "common/log.h"

#define DEFAULT_MAX_PENDING 65536u
#define DEFAULT_MAX_BATCH 1024u

struct pl_chat_req {
	struct pl_chat_req *next;
	enum pl_chat_op op;
	pl_chat_cb cb;
	void *ud;
	int err;
	struct pl_chat_append append;  /* APPEND: request in, stored message out */
	struct pl_chat_query query;    /* HISTORY: strings point into qblob */
	char *qblob;
	struct pl_chat_page page;      /* HISTORY: the result */
	char *room;                    /* LAST_SEQ */
	uint64_t last_seq;
};

struct req_list {
	struct pl_chat_req *head, *tail;
	size_t n;
};

struct pl_chat_store {
	const struct pl_chat_backend_ops *ops;
	void *be;
	unsigned max_pending, max_batch;

	pthread_mutex_t mu;
	pthread_cond_t cv;            /* the worker waits here for requests */
	struct req_list queue;        /* under mu: accepted, not yet taken */
	struct req_list done;         /* under mu: completed, not yet dispatched */
	unsigned outstanding;         /* under mu: accepted, not yet dispatched */
	bool closing;                 /* under mu */

	bool has_mu, has_cv, has_thread;
	pthread_t thread;
	int efd;
	struct pl_chat_append **batch; /* worker only: max_batch slots */

	_Atomic uint64_t n_appends, n_duplicates, n_transactions, n_failures;
	_Atomic uint64_t n_max_batch;
};

static const struct pl_chat_backend_ops *const backends[] = {
	&pl_chat_sqlite_ops,
};

/* ---- requests ------------------------------------------------------- */

static void req_free(struct pl_chat_req *r)
{
	pl_chat_owned_release(&r->append.msg);
	free(r->qblob);
	pl_chat_page_release(&r->page);
	free(r->room);
	free(r);
}

static void list_push(struct req_list *l, struct pl_chat_req *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static struct pl_chat_req *list_pop(struct req_list *l)
{
	struct pl_chat_req *r = l->head;

	if (r) {
		l->head = r->next;
		if (!l->head)
			l->tail = NULL;
		l->n--;
		r->next = NULL;
	}
	return r;
}

/* Moves all of src to the end of dst. */
static void list_splice(struct req_list *dst, struct req_list *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->n += src->n;
	memset(src, 0, sizeof(*src));
}

static void list_free(struct req_list *l)
{
	struct pl_chat_req *r, *next;

	for (r = l->head; r; r = next) {
		next = r->next;
		req_free(r);
	}
	memset(l, 0, sizeof(*l));
}

static struct pl_chat_req *req_new(enum pl_chat_op op, pl_chat_cb cb, void *ud)
{
	struct pl_chat_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->op = op, r->cb = cb, r->ud = ud;
	return r;
}

/* Accepts r or frees it. */
static int submit(struct pl_chat_store *s, struct pl_chat_req *r)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		rc = PL_ECLOSED;
	} else if (s->outstanding >= s->max_pending) {
		rc = PL_EBUSY;
	} else {
		s->outstanding++;
		if (!s->queue.head)
			pthread_cond_signal(&s->cv);
		list_push(&s->queue, r);
	}
	pthread_mutex_unlock(&s->mu);
	if (rc)
		req_free(r);
	return rc;
}

/* ---- the worker ----------------------------------------------------- */

/* Publishes a finished run, in order, and wakes the owner. */
static void complete(struct pl_chat_store *s, struct req_list *run)
{
	uint64_t one = 1;

	for (struct pl_chat_req *r = run->head; r; r = r->next)
		if (r->err)
			atomic_fetch_add(&s->n_failures, 1);
	pthread_mutex_lock(&s->mu);
	list_splice(&s->done, run);
	pthread_mutex_unlock(&s->mu);
	if (write(s->efd, &one, sizeof(one)) < 0)
		PL_LOG(PL_LOG_ERROR, "chat", "eventfd write: %s", strerror(errno));
}

static void count_batch(struct pl_chat_store *s, size_t n)
{
	uint64_t stored = 0, dups = 0, seen;

	for (size_t i = 0; i < n; i++) {
		if (s->batch[i]->duplicate)
			dups++;
		else
			stored++;
	}
	atomic_fetch_add(&s->n_appends, stored);
	atomic_fetch_add(&s->n_duplicates, dups);
	if (stored)
		atomic_fetch_add(&s->n_transactions, 1);
	seen = atomic_load(&s->n_max_batch);
	if (n > seen)
		atomic_store(&s->n_max_batch, n);   /* only the worker writes it */
}

/* Takes the run of appends at the head of *todo into run, stores it in one
 * transaction and sets each request's err. */
static void run_appends(struct pl_chat_store *s, struct req_list *todo,
			struct req_list *run)
{
	size_t n = 0;
	int rc;

	while (todo->head && todo->head->op == PL_CHAT_OP_APPEND) {
		struct pl_chat_req *r = list_pop(todo);

		s->batch[n++] = &r->append;
		list_push(run, r);
	}
	rc = s->ops->append_batch(s->be, s->batch, n);
	for (struct pl_chat_req *r = run->head; r; r = r->next)
		r->err = rc;
	if (rc == 0)
		count_batch(s, n);   /* a failure was logged by the backend */
}

static void run_read(struct pl_chat_store *s, struct pl_chat_req *r)
{
	if (r->op == PL_CHAT_OP_HISTORY) {
		r->err = s->ops->history(s->be, &r->query, &r->page);
		if (r->err)
			pl_chat_page_release(&r->page);
	} else {
		r->err = s->ops->last_seq(s->be, r->room, &r->last_seq);
	}
}

/* Runs the taken requests in order, publishing each run as it finishes so
 * that acks never wait for unrelated later work. */
static void run_list(struct pl_chat_store *s, struct req_list *todo)
{
	while (todo->head) {
		struct req_list run = { 0 };

		if (todo->head->op == PL_CHAT_OP_APPEND) {
			run_appends(s, todo, &run);
		} else {
			struct pl_chat_req *r = list_pop(todo);

			run_read(s, r);
			list_push(&run, r);
		}
		complete(s, &run);
	}
}

/* Takes up to max_batch requests off the queue; false once closing and
 * drained. */
static bool take(struct pl_chat_store *s, struct req_list *todo)
{
	pthread_mutex_lock(&s->mu);
	while (!s->queue.head && !s->closing)
		pthread_cond_wait(&s->cv, &s->mu);
	while (s->queue.head && todo->n < s->max_batch)
		list_push(todo, list_pop(&s->queue));
	pthread_mutex_unlock(&s->mu);
	return todo->head != NULL;
}

static void *worker_main(void *arg)
{
	struct pl_chat_store *s = arg;
	struct req_list todo = { 0 };

	while (take(s, &todo))
		run_list(s, &todo);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------ */

static const struct pl_chat_backend_ops *backend_find(const char *name)
{
	if (!name)
		return backends[0];
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

/* Starts the synchronisation, the eventfd and the worker of a store whose
 * backend is open. */
static int start(struct pl_chat_store *s)
{
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		return PL_ESYS;
	s->has_mu = true;
	if (pthread_cond_init(&s->cv, NULL) != 0)
		return PL_ESYS;
	s->has_cv = true;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		PL_LOG(PL_LOG_ERROR, "chat", "eventfd: %s", strerror(errno));
		return PL_ESYS;
	}
	if (pthread_create(&s->thread, NULL, worker_main, s) != 0)
		return PL_ESYS;
	s->has_thread = true;
	return 0;
}

int pl_chat_store_open(const struct pl_chat_store_config *cfg, struct pl_chat_store **out)
{
	const struct pl_chat_backend_ops *ops;
	struct pl_chat_store *s;
	int rc;

	if (!cfg || !out || !(ops = backend_find(cfg->backend)))
		return PL_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PL_ENOMEM;
	s->ops = ops;
	s->efd = -1;
	s->max_pending = cfg->max_pending ? cfg->max_pending : DEFAULT_MAX_PENDING;
	s->max_batch = cfg->max_batch ? cfg->max_batch : DEFAULT_MAX_BATCH;
	if (s->max_batch > s->max_pending)
		s->max_batch = s->max_pending;   /* a batch never holds more */
	s->batch = calloc(s->max_batch, sizeof(*s->batch));
	if (!s->batch) {
		rc = PL_ENOMEM;
		goto fail;
	}
	if ((rc = ops->open(cfg, &s->be)) != 0 || (rc = start(s)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	pl_chat_store_close(s);
	return rc;
}

/* Accepts half-built stores (see pl_chat_store_open). */
void pl_chat_store_close(struct pl_chat_store *s)
{
	if (!s)
		return;
	if (s->has_thread) {
		pthread_mutex_lock(&s->mu);
		s->closing = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);   /* it drains the queue first */
	}
	list_free(&s->queue);
	/* Deliver what the worker finished but the owner never dispatched, so
	 * that callers can free the state they attached to each request. */
	if (s->has_mu && s->efd >= 0)
		pl_chat_store_dispatch(s);
	list_free(&s->done);
	if (s->be)
		s->ops->close(s->be);
	if (s->efd >= 0)
		close(s->efd);
	if (s->has_cv)
		pthread_cond_destroy(&s->cv);
	if (s->has_mu)
		pthread_mutex_destroy(&s->mu);
	free(s->batch);
	free(s);
}

int pl_chat_store_fd(const struct pl_chat_store *s)
{
	return s->efd;
}

/* ---- dispatch ------------------------------------------------------- */

static void deliver(struct pl_chat_req *r)
{
	struct pl_chat_result res = { .op = r->op, .err = r->err };

	if (r->err == 0) {
		switch (r->op) {
		case PL_CHAT_OP_APPEND:
			res.msg = &r->append.msg.m;
			res.duplicate = r->append.duplicate;
			break;
		case PL_CHAT_OP_HISTORY:
			res.msgs = r->page.msgs;
			res.n = r->page.n;
			res.more = r->page.more;
			break;
		case PL_CHAT_OP_LAST_SEQ:
			res.last_seq = r->last_seq;
			break;
		}
	}
	r->cb(r->ud, &res);
}

int pl_chat_store_dispatch(struct pl_chat_store *s)
{
	struct req_list ready;
	struct pl_chat_req *r, *next;
	uint64_t ticks;
	int n = 0;

	/* Drain the fd before taking the list: a completion published after
	 * the read writes the fd again, so it cannot be lost. */
	if (read(s->efd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		PL_LOG(PL_LOG_ERROR, "chat", "eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&s->mu);
	ready = s->done;
	memset(&s->done, 0, sizeof(s->done));
	s->outstanding -= (unsigned)ready.n;
	pthread_mutex_unlock(&s->mu);
	for (r = ready.head; r; r = next) {
		next = r->next;
		deliver(r);
		req_free(r);
		n++;
	}
	return n;
}

/* ---- requests from the owner ---------------------------------------- */

static bool msg_is_valid(const struct pl_chat_msg *m)
{
	if (!m->room || !m->from_pid || !m->from_user || !m->from_display || !m->text)
		return false;
	/* A DM names both recipient ids; one without the other would be
	 * stored as a room message and shown to everyone. */
	return !m->to_pid == !m->to_user;
}

int pl_chat_store_append(struct pl_chat_store *s, const struct pl_chat_msg *m,
			 pl_chat_cb cb, void *ud)
{
	struct pl_chat_req *r;

	if (!s || !m || !cb || !msg_is_valid(m))
		return PL_EINVAL;
	if (!(r = req_new(PL_CHAT_OP_APPEND, cb, ud)))
		return PL_ENOMEM;
	if (pl_chat_owned_copy(&r->append.msg, m) != 0) {
		req_free(r);
		return PL_ENOMEM;
	}
	r->append.msg.m.seq = 0;
	r->append.msg.m.ts_ms = 0;
	return submit(s, r);
}

static bool query_is_valid(const struct pl_chat_query *q)
{
	if (!q->room || !q->user || q->limit < 1 || q->limit > PL_CHAT_PAGE_MAX)
		return false;
	return !(q->has_before && q->has_after);   /* no range form is defined */
}

int pl_chat_store_history(struct pl_chat_store *s, const struct pl_chat_query *q,
			  pl_chat_cb cb, void *ud)
{
	struct pl_chat_msg keys = { 0 };
	struct pl_chat_owned o;
	struct pl_chat_req *r;

	if (!s || !q || !cb || !query_is_valid(q))
		return PL_EINVAL;
	if (!(r = req_new(PL_CHAT_OP_HISTORY, cb, ud)))
		return PL_ENOMEM;
	/* Borrow the owned-message copy to keep the two query strings. */
	keys.room = q->room, keys.from_user = q->user;
	if (pl_chat_owned_copy(&o, &keys) != 0) {
		req_free(r);
		return PL_ENOMEM;
	}
	r->query = *q;
	r->query.room = o.m.room, r->query.user = o.m.from_user;
	r->qblob = o.blob;   /* ownership moves to the request */
	return submit(s, r);
}

int pl_chat_store_last_seq(struct pl_chat_store *s, const char *room, pl_chat_cb cb,
			   void *ud)
{
	struct pl_chat_req *r;

	if (!s || !room || !cb)
		return PL_EINVAL;
	if (!(r = req_new(PL_CHAT_OP_LAST_SEQ, cb, ud)))
		return PL_ENOMEM;
	if (!(r->room = strdup(room))) {
		req_free(r);
		return PL_ENOMEM;
	}
	return submit(s, r);
}

void pl_chat_store_get_stats(const struct pl_chat_store *s, struct pl_chat_store_stats *out)
{
	/* Each counter is read atomically; together they are a close, not an
	 * exact, snapshot while the worker runs. */
	out->appends = atomic_load(&s->n_appends);
	out->duplicates = atomic_load(&s->n_duplicates);
	out->transactions = atomic_load(&s->n_transactions);
	out->failures = atomic_load(&s->n_failures);
	out->max_batch_seen = atomic_load(&s->n_max_batch);
}
