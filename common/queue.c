/* common/queue.c: a mutex-protected ring of pointers plus an eventfd.
 *
 * The queue carries control messages (a few per call set-up), never
 * packets, so a mutex is the simplest correct choice.  The eventfd is
 * written on the empty -> non-empty transition and drained by the
 * consumer when it finds the queue empty, so a wakeup is never lost.
 */
#include "common/queue.h"
#include "common/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct pl_queue {
	pthread_mutex_t mu;
	void **items;
	size_t cap, head, len;
	int efd;
};

int pl_queue_create(size_t cap, struct pl_queue **out)
{
	struct pl_queue *q;

	if (cap == 0)
		return PL_EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		abort();
	q->items = calloc(cap, sizeof(void *));
	if (!q->items)
		abort();
	q->cap = cap;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		free(q->items);
		free(q);
		return PL_ESYS;
	}
	pthread_mutex_init(&q->mu, NULL);
	*out = q;
	return 0;
}

void pl_queue_destroy(struct pl_queue *q, void (*free_item)(void *))
{
	void *it;

	if (!q)
		return;
	while ((it = pl_queue_pop(q)) != NULL)
		if (free_item)
			free_item(it);
	close(q->efd);
	pthread_mutex_destroy(&q->mu);
	free(q->items);
	free(q);
}

int pl_queue_push(struct pl_queue *q, void *item)
{
	bool wake;

	pthread_mutex_lock(&q->mu);
	if (q->len == q->cap) {
		pthread_mutex_unlock(&q->mu);
		return PL_EBUSY;
	}
	q->items[(q->head + q->len) % q->cap] = item;
	wake = q->len++ == 0;
	pthread_mutex_unlock(&q->mu);
	if (wake) {
		uint64_t one = 1;
		while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return 0;
}

void *pl_queue_pop(struct pl_queue *q)
{
	void *it = NULL;
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	if (q->len > 0) {
		it = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	} else {
		/* Drain under the lock: a push after this sees len == 0 and
		 * writes the fd again. */
		while (read(q->efd, &n, sizeof(n)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&q->mu);
	return it;
}

int pl_queue_fd(const struct pl_queue *q)
{
	return q->efd;
}
