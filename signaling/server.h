/* signaling/server.h: parleyd's HTTP + WebSocket server.
 *
 * One libwebsockets context running on the caller's GLib main loop serves,
 * on one port: the signaling WebSocket at /ws (subprotocol parley.v1), GET
 * /healthz, and the web demo folder at /.  The server owns the sessions,
 * the rooms and the chat store.  Every function runs on the thread that
 * runs the loop.
 */
#ifndef PL_SIGNALING_SERVER_H
#define PL_SIGNALING_SERVER_H

#include "signaling/config.h"

struct pl_server;

/* Opens the chat store under cfg->data_dir and starts listening.  loop is
 * a GMainLoop * (void * so that this header needs no GLib).  cfg must
 * outlive the server.  Returns 0, PL_EIO (store), PL_ESYS (listen). */
int pl_server_create(const struct pl_config *cfg, void *loop, struct pl_server **out);

/* Starts a graceful stop: every connection is closed with 1001 (going
 * away) after its queued messages; the loop is quit when all are gone or
 * after one second.  Called again, quits the loop at once. */
void pl_server_begin_shutdown(struct pl_server *srv);

/* The port actually listened on (useful with port 0). */
int pl_server_port(const struct pl_server *srv);

/* Closes every connection, flushes the chat store and frees everything.
 * Call after the loop has stopped.  NULL is a no-op. */
void pl_server_destroy(struct pl_server *srv);

#endif
