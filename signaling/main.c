/* signaling/main.c: parleyd's entry point.
 *
 * `parleyd [options]` runs the server on a GLib main loop until SIGINT or
 * SIGTERM, then closes every connection, flushes the chat store and exits
 * 0.  `parleyd token ...` prints a join token for a room and exits.
 */
#include "signaling/auth.h"
#include "signaling/config.h"
#include "signaling/proto.h"
#include "signaling/server.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean on_signal(gpointer srv)
{
	PL_LOG(PL_LOG_INFO, "sig", "signal received, shutting down");
	pl_server_begin_shutdown(srv);
	return G_SOURCE_CONTINUE;
}

struct token_args {
	gchar *room, *user, *name, *secret, *config;
	gint ttl;
	gboolean no_publish, no_subscribe, no_chat, moderator;
};

static int token_secret(struct token_args *a, char **secret)
{
	struct pl_config cfg;
	char err[256];

	pl_config_init(&cfg);
	if (a->config && pl_config_load_file(&cfg, a->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "parleyd token: %s\n", err);
		pl_config_release(&cfg);
		return PL_EINVAL;
	}
	const char *env = getenv("PARLEY_AUTH_SECRET");
	if (a->secret)
		*secret = g_strdup(a->secret);
	else if (env && *env)
		*secret = g_strdup(env);
	else
		*secret = g_strdup(cfg.auth_secret);
	pl_config_release(&cfg);
	if (!*secret || !**secret) {
		fprintf(stderr, "parleyd token: no secret (use --auth-secret, --config or PARLEY_AUTH_SECRET)\n");
		return PL_EINVAL;
	}
	return 0;
}

static int make_token(struct token_args *a)
{
	struct pl_auth_claims c = { .publish = !a->no_publish, .subscribe = !a->no_subscribe,
				    .chat = !a->no_chat, .moderator = a->moderator };
	char *secret = NULL, *tok = NULL;
	int rc;

	if (!a->room || !a->user || (strcmp(a->room, "*") != 0 && !pl_proto_room_is_valid(a->room)) ||
	    strlen(a->user) > PL_AUTH_SUB_MAX || !*a->user) {
		fprintf(stderr, "parleyd token: --room (a room name or '*') and --user are required\n");
		return 2;
	}
	if (a->name && (strlen(a->name) > PL_AUTH_NAME_MAX || !pl_proto_display_is_valid(a->name))) {
		fprintf(stderr, "parleyd token: --name must be 1-64 printable characters\n");
		return 2;
	}
	if (a->ttl <= 0) {
		fprintf(stderr, "parleyd token: --ttl must be positive\n");
		return 2;
	}
	if (token_secret(a, &secret) < 0)
		return 2;
	g_strlcpy(c.room, a->room, sizeof(c.room));
	g_strlcpy(c.sub, a->user, sizeof(c.sub));
	if (a->name)
		g_strlcpy(c.name, a->name, sizeof(c.name));
	c.exp = pl_clock_wall_ms() / 1000 + a->ttl;
	rc = pl_auth_token_create(secret, &c, &tok);
	g_free(secret);
	if (rc < 0) {
		fprintf(stderr, "parleyd token: %s\n", pl_strerror(rc));
		return 1;
	}
	printf("%s\n", tok);
	free(tok);
	return 0;
}

static int cmd_token(int argc, char **argv)
{
	struct token_args a = { .ttl = 3600 };
	GOptionEntry entries[] = {
		{ "room", 'r', 0, G_OPTION_ARG_STRING, &a.room, "Room the token admits to ('*' for any)", "R" },
		{ "user", 'u', 0, G_OPTION_ARG_STRING, &a.user, "User id (the 'sub' claim)", "U" },
		{ "name", 'n', 0, G_OPTION_ARG_STRING, &a.name, "Display name (the 'name' claim)", "N" },
		{ "ttl", 't', 0, G_OPTION_ARG_INT, &a.ttl, "Seconds until the token expires (default 3600)", "S" },
		{ "no-publish", 0, 0, G_OPTION_ARG_NONE, &a.no_publish, "Deny publishing media", NULL },
		{ "no-subscribe", 0, 0, G_OPTION_ARG_NONE, &a.no_subscribe, "Deny receiving media", NULL },
		{ "no-chat", 0, 0, G_OPTION_ARG_NONE, &a.no_chat, "Deny chat", NULL },
		{ "moderator", 0, 0, G_OPTION_ARG_NONE, &a.moderator, "Allow removing others from the room (kick)", NULL },
		{ "auth-secret", 0, 0, G_OPTION_ARG_STRING, &a.secret, "Signing secret (else PARLEY_AUTH_SECRET or --config)", "S" },
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &a.config, "Take [auth] secret from this INI file", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("- print a join token for parleyd");
	GError *err = NULL;
	int rc;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "parleyd token: %s\n", err->message);
		g_error_free(err);
		rc = 2;
	} else {
		rc = make_token(&a);
	}
	g_option_context_free(ctx);
	g_free(a.room), g_free(a.user), g_free(a.name), g_free(a.secret), g_free(a.config);
	return rc;
}

/* GLib log messages of the libraries parleyd runs.  libnice's debug output
 * (turned on by NICE_DEBUG or G_MESSAGES_DEBUG) traces every STUN check
 * with the ICE passwords in clear ("returning password: ...",
 * "password='...'"), so parleyd never lets a libnice message below
 * WARNING through, whatever the environment says; warnings and errors of
 * every domain still reach stderr through GLib's own handler. */
static void glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud)
{
	bool quiet = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0;

	if (quiet && domain && g_str_has_prefix(domain, "libnice"))
		return;
	g_log_default_handler(domain, level, msg, ud);
}

static int run_server(const struct pl_config *cfg)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct pl_server *srv = NULL;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	g_log_set_default_handler(glib_log, NULL);
	rc = pl_server_create(cfg, loop, &srv);
	if (rc < 0) {
		g_main_loop_unref(loop);
		return 1;
	}
	/* Before the "listening" line: a script that signals as soon as it
	 * sees it must get a clean shutdown. */
	guint s1 = g_unix_signal_add(SIGINT, on_signal, srv);
	guint s2 = g_unix_signal_add(SIGTERM, on_signal, srv);
	PL_LOG(PL_LOG_INFO, "sig", "parleyd %s listening on %s://%s:%d (%s at /ws, web demo from %s, %s)",
	       PL_VERSION, cfg->tls_cert ? "https" : "http", cfg->listen_host, pl_server_port(srv),
	       cfg->tls_cert ? "wss" : "ws", cfg->web_root,
	       cfg->auth_secret && *cfg->auth_secret ? "token auth" : "open rooms");
	g_main_loop_run(loop);
	g_source_remove(s1);
	g_source_remove(s2);
	pl_server_destroy(srv);
	g_main_loop_unref(loop);
	PL_LOG(PL_LOG_INFO, "sig", "bye");
	return 0;
}

int main(int argc, char **argv)
{
	struct pl_config cfg;
	bool exit_now = false;
	int rc;

	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	pl_config_init(&cfg);
	if (pl_config_from_args(&cfg, argc, argv, &exit_now) < 0) {
		pl_config_release(&cfg);
		return 2;
	}
	if (exit_now) {
		pl_config_release(&cfg);
		return 0;
	}
	if (pl_log_configure(cfg.log_level, cfg.log_tags) < 0) {
		fprintf(stderr, "parleyd: bad log level '%s' or tags '%s'\n", cfg.log_level, cfg.log_tags);
		pl_config_release(&cfg);
		return 2;
	}
	rc = run_server(&cfg);
	pl_config_release(&cfg);
	return rc;
}
