/* common/queue.h: a bounded multi-producer, single-consumer queue of
 * pointers with an eventfd wakeup, for the control plane between threads
 * (signaling <-> media workers).
 *
 * Producers on any thread push; the one consumer polls pl_queue_fd() in
 * its event loop and pops until empty.  A full queue refuses the push with
 * PL_EBUSY instead of growing: back-pressure is the producer's decision.
 * Items are opaque pointers owned by whoever holds them.
 */
#ifndef PL_COMMON_QUEUE_H
#define PL_COMMON_QUEUE_H

#include <stddef.h>

struct pl_queue;

/* cap: maximum items queued.  Returns 0, PL_EINVAL, PL_ESYS (eventfd). */
int pl_queue_create(size_t cap, struct pl_queue **out);
/* Frees the queue; free_item (may be NULL) runs on each item left. */
void pl_queue_destroy(struct pl_queue *q, void (*free_item)(void *));
/* Any thread.  Returns 0 or PL_EBUSY (full). */
int pl_queue_push(struct pl_queue *q, void *item);
/* Consumer thread only.  Returns the oldest item, or NULL when empty. */
void *pl_queue_pop(struct pl_queue *q);
/* Readable while items may be waiting; pl_queue_pop clears it once the
 * queue is empty. */
int pl_queue_fd(const struct pl_queue *q);

#endif
