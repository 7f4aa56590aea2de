/* media/worker_cmd.h: commands from the owner to a worker, and the
 * worker's lifecycle.  Private to media/. */
#ifndef PL_MEDIA_WORKER_CMD_H
#define PL_MEDIA_WORKER_CMD_H

#include "media/media.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl_worker;
struct pl_dtls_cert;

enum pl_cmd_type {
	PL_CMD_ADD,
	PL_CMD_REMOVE,
	PL_CMD_OFFER,
	PL_CMD_ANSWER,
	PL_CMD_CANDIDATE,
	PL_CMD_MUTE,
	PL_CMD_SUBSCRIBE,
};

/* A command; strings are owned by it. */
struct pl_cmd {
	enum pl_cmd_type type;
	uint64_t key;
	enum pl_media_pc pc;
	uint32_t rev;
	bool flag;
	bool echo, can_publish, can_subscribe;
	char *room;
	char *str;
};

struct pl_cmd *pl_cmd_new(enum pl_cmd_type type, uint64_t key);
void pl_cmd_free(struct pl_cmd *c);

int pl_worker_create(struct pl_media *m, int index, const struct pl_media_config *cfg,
		     size_t queue_cap, struct pl_worker **out);
void pl_worker_destroy(struct pl_worker *w);
/* Owner thread: queues c (ownership passes on success).  0 or PL_EBUSY. */
int pl_worker_push(struct pl_worker *w, struct pl_cmd *c);

/* media.c, for workers. */
void pl_media_post_event(struct pl_media *m, struct pl_media_event *ev);
const struct pl_dtls_cert *pl_media_cert(const struct pl_media *m);
size_t pl_media_max_sdp(const struct pl_media *m);

#endif
