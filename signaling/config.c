/* signaling/config.c: defaults, the INI file and the command line.
 *
 * The INI file is read with GLib's GKeyFile and the command line with
 * GOptionContext.  Every key has a default here and a line in
 * docs/parleyd.example.ini; unknown keys are reported (a typo in a limit
 * must not silently leave the default in force).  Runs on the main thread
 * at start-up only.
 */
#include "signaling/config.h"
#include "common/err.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PL_WEB_ROOT
#define PL_WEB_ROOT "web-demo"
#endif

void pl_config_init(struct pl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_host = g_strdup("127.0.0.1");
	cfg->listen_port = 8080;
	cfg->data_dir = g_strdup("./parley-data");
	cfg->web_root = g_strdup(PL_WEB_ROOT);
	cfg->max_frame_bytes = 65536;
	cfg->ws_ping_interval_s = 15;
	cfg->ws_timeout_s = 30;
	cfg->chat_backend = g_strdup("sqlite");
	cfg->log_level = g_strdup("info");
	cfg->log_tags = g_strdup("all");
	cfg->limits = (struct pl_limits){
		.messages_per_s = 50,
		.messages_burst = 100,
		.chat_per_s = 20,
		.chat_burst = 40,
		.max_connections = 2000,
		.max_connections_per_ip = 200,
		.max_rooms = 1000,
		/* Each subscriber receives at most 64 tracks (PL_MAX_DOWN,
		 * bounded by the SDP parser's 64 m-lines): 31 others with audio
		 * and video. */
		.max_participants_per_room = 32,
		.send_queue_max = 1024,
		.max_sdp_mlines = 16,
		.ip_messages_per_s = 0,
		.ip_messages_burst = 1000,
		.ip_chat_per_s = 0,
		.ip_chat_burst = 200,
	};
	cfg->ice_addresses = g_strdup("127.0.0.1");
	cfg->max_sdp_bytes = 65536;
}

void pl_config_release(struct pl_config *cfg)
{
	g_free(cfg->config_file);
	g_free(cfg->listen_host);
	g_free(cfg->data_dir);
	g_free(cfg->web_root);
	g_free(cfg->tls_cert);
	g_free(cfg->tls_key);
	g_free(cfg->auth_secret);
	g_free(cfg->chat_backend);
	g_free(cfg->log_level);
	g_free(cfg->log_tags);
	g_free(cfg->ice_addresses);
	g_free(cfg->stun_server);
	g_free(cfg->public_ip);
	g_free(cfg->dtls_cert);
	g_free(cfg->dtls_key);
	g_free(cfg->srtp_engine);
	memset(cfg, 0, sizeof(*cfg));
}

int pl_config_parse_listen(struct pl_config *cfg, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end = NULL;
	long port;

	if (!colon)
		return PL_EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return PL_EINVAL;
	g_free(cfg->listen_host);
	if (colon == s)
		cfg->listen_host = g_strdup("0.0.0.0");
	else if (s[0] == '[' && colon[-1] == ']')
		cfg->listen_host = g_strndup(s + 1, (size_t)(colon - s - 2));
	else
		cfg->listen_host = g_strndup(s, (size_t)(colon - s));
	cfg->listen_port = (int)port;
	return 0;
}

enum key_kind { K_STR, K_INT, K_DBL, K_LISTEN };

struct key_spec {
	const char *group, *key;
	enum key_kind kind;
	size_t off;
	double min, max;
};

#define OFF(f) offsetof(struct pl_config, f)
static const struct key_spec keys[] = {
	{ "server", "listen", K_LISTEN, 0, 0, 0 },
	{ "server", "data_dir", K_STR, OFF(data_dir), 0, 0 },
	{ "server", "web_root", K_STR, OFF(web_root), 0, 0 },
	{ "server", "max_frame_bytes", K_INT, OFF(max_frame_bytes), 1024, 16 << 20 },
	{ "server", "ws_ping_interval_s", K_INT, OFF(ws_ping_interval_s), 1, 3600 },
	{ "server", "ws_timeout_s", K_INT, OFF(ws_timeout_s), 2, 7200 },
	{ "server", "tls_cert", K_STR, OFF(tls_cert), 0, 0 },
	{ "server", "tls_key", K_STR, OFF(tls_key), 0, 0 },
	{ "auth", "secret", K_STR, OFF(auth_secret), 0, 0 },
	{ "chat", "backend", K_STR, OFF(chat_backend), 0, 0 },
	{ "log", "level", K_STR, OFF(log_level), 0, 0 },
	{ "log", "tags", K_STR, OFF(log_tags), 0, 0 },
	{ "limits", "messages_per_s", K_DBL, OFF(limits.messages_per_s), 0, 1e9 },
	{ "limits", "messages_burst", K_DBL, OFF(limits.messages_burst), 1, 1e9 },
	{ "limits", "chat_per_s", K_DBL, OFF(limits.chat_per_s), 0, 1e9 },
	{ "limits", "chat_burst", K_DBL, OFF(limits.chat_burst), 1, 1e9 },
	{ "limits", "max_connections", K_INT, OFF(limits.max_connections), 1, 1e7 },
	{ "limits", "max_connections_per_ip", K_INT, OFF(limits.max_connections_per_ip), 1, 1e7 },
	{ "limits", "max_rooms", K_INT, OFF(limits.max_rooms), 1, 1e7 },
	{ "limits", "max_participants_per_room", K_INT, OFF(limits.max_participants_per_room), 1, 1e6 },
	{ "limits", "send_queue_max", K_INT, OFF(limits.send_queue_max), 4, 1e7 },
	{ "limits", "ip_messages_per_s", K_DBL, OFF(limits.ip_messages_per_s), 0, 1e9 },
	{ "limits", "ip_messages_burst", K_DBL, OFF(limits.ip_messages_burst), 1, 1e9 },
	{ "limits", "ip_chat_per_s", K_DBL, OFF(limits.ip_chat_per_s), 0, 1e9 },
	{ "limits", "ip_chat_burst", K_DBL, OFF(limits.ip_chat_burst), 1, 1e9 },
	{ "limits", "max_sdp_mlines", K_INT, OFF(limits.max_sdp_mlines), 1, 64 }, /* PL_SDP_MAX_MEDIA */
	{ "media", "workers", K_INT, OFF(media_workers), 0, 256 },
	{ "media", "ice_addresses", K_STR, OFF(ice_addresses), 0, 0 },
	{ "media", "stun_server", K_STR, OFF(stun_server), 0, 0 },
	{ "media", "public_ip", K_STR, OFF(public_ip), 0, 0 },
	{ "media", "rtp_port_min", K_INT, OFF(rtp_port_min), 0, 65535 },
	{ "media", "rtp_port_max", K_INT, OFF(rtp_port_max), 0, 65535 },
	{ "media", "dtls_cert", K_STR, OFF(dtls_cert), 0, 0 },
	{ "media", "dtls_key", K_STR, OFF(dtls_key), 0, 0 },
	{ "media", "max_sdp_bytes", K_INT, OFF(max_sdp_bytes), 1024, 65536 }, /* PL_SDP_MAX_BYTES */
	{ "media", "srtp_engine", K_STR, OFF(srtp_engine), 0, 0 },
};

static const struct key_spec *find_key(const char *group, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Sets one key from its string value; used by the file and by --set. */
static int apply_key(struct pl_config *cfg, const struct key_spec *k, const char *val,
		     char *err, size_t errlen)
{
	char *base = (char *)cfg, *end = NULL;
	double d;

	switch (k->kind) {
	case K_LISTEN:
		if (pl_config_parse_listen(cfg, val) == 0)
			return 0;
		break;
	case K_STR: /* an empty value means "not set" */
		g_free(*(char **)(base + k->off));
		*(char **)(base + k->off) = *val ? g_strdup(val) : NULL;
		return 0;
	case K_INT:
	case K_DBL:
		d = strtod(val, &end);
		if (end == val || *end || d < k->min || d > k->max)
			break;
		if (k->kind == K_INT && d != (double)(long)d)
			break;
		if (k->kind == K_INT)
			*(int *)(base + k->off) = (int)d;
		else
			*(double *)(base + k->off) = d;
		return 0;
	}
	snprintf(err, errlen, "[%s] %s: bad value '%s'", k->group, k->key, val);
	return PL_EINVAL;
}

int pl_config_load_file(struct pl_config *cfg, const char *path, char *err, size_t errlen)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	gchar **groups = NULL;
	int rc = 0;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		snprintf(err, errlen, "%s: %s", path, gerr->message);
		g_error_free(gerr);
		g_key_file_free(kf);
		return PL_EIO;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (gchar **g = groups; *g && rc == 0; g++) {
		gchar **names = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (gchar **n = names; n && *n && rc == 0; n++) {
			const struct key_spec *k = find_key(*g, *n);
			gchar *val = g_key_file_get_string(kf, *g, *n, NULL);
			if (!k) {
				snprintf(err, errlen, "%s: unknown key [%s] %s", path, *g, *n);
				rc = PL_EINVAL;
			} else {
				rc = apply_key(cfg, k, val ? g_strstrip(val) : "", err, errlen);
			}
			g_free(val);
		}
		g_strfreev(names);
	}
	g_strfreev(groups);
	g_key_file_free(kf);
	return rc;
}

struct cli {
	gchar *config, *listen, *data_dir, *secret, *web_root, *log_level, *log_tags;
	gchar **sets;
	gboolean version;
};

static int apply_cli(struct pl_config *cfg, struct cli *c)
{
	char err[256];

	if (c->config) {
		cfg->config_file = g_strdup(c->config);
		if (pl_config_load_file(cfg, c->config, err, sizeof(err)) < 0) {
			fprintf(stderr, "parleyd: %s\n", err);
			return PL_EINVAL;
		}
	}
	const char *env_secret = getenv("PARLEY_AUTH_SECRET");
	if (env_secret && *env_secret) {
		g_free(cfg->auth_secret);
		cfg->auth_secret = g_strdup(env_secret);
	}
	for (gchar **s = c->sets; s && *s; s++) {
		gchar **kv = g_strsplit(*s, "=", 2), **gk = NULL;
		const struct key_spec *k = NULL;
		if (kv[0] && kv[1]) {
			gk = g_strsplit(kv[0], ".", 2);
			if (gk[0] && gk[1])
				k = find_key(gk[0], gk[1]);
		}
		int rc = k ? apply_key(cfg, k, kv[1], err, sizeof(err)) : PL_EINVAL;
		if (!k)
			snprintf(err, sizeof(err), "--set %s: expected SECTION.KEY=VALUE of a known key", *s);
		g_strfreev(kv);
		g_strfreev(gk);
		if (rc < 0) {
			fprintf(stderr, "parleyd: %s\n", err);
			return PL_EINVAL;
		}
	}
	if (c->listen && pl_config_parse_listen(cfg, c->listen) < 0) {
		fprintf(stderr, "parleyd: --listen: expected HOST:PORT, got '%s'\n", c->listen);
		return PL_EINVAL;
	}
#define TAKE(field, v) if (v) { g_free(cfg->field); cfg->field = g_strdup(v); }
	TAKE(data_dir, c->data_dir)
	TAKE(auth_secret, c->secret)
	TAKE(web_root, c->web_root)
	TAKE(log_level, c->log_level)
	TAKE(log_tags, c->log_tags)
#undef TAKE
	/* Keys left empty fall back to their defaults. */
	if (!cfg->data_dir)
		cfg->data_dir = g_strdup("./parley-data");
	if (!cfg->web_root)
		cfg->web_root = g_strdup(PL_WEB_ROOT);
	if (!cfg->chat_backend)
		cfg->chat_backend = g_strdup("sqlite");
	if (!cfg->log_level)
		cfg->log_level = g_strdup("info");
	/* A certificate without its key (or the reverse) is a mistake, not a
	 * request for plain HTTP: refuse rather than serve without TLS. */
	if (!cfg->tls_cert != !cfg->tls_key) {
		fprintf(stderr, "parleyd: [server] tls_cert and tls_key must be set together\n");
		return PL_EINVAL;
	}
	return 0;
}

int pl_config_from_args(struct pl_config *cfg, int argc, char **argv, bool *exit_now)
{
	struct cli c = { 0 };
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &c.config, "INI configuration file", "FILE" },
		{ "listen", 'l', 0, G_OPTION_ARG_STRING, &c.listen, "HTTP/WebSocket address (default 127.0.0.1:8080; port 0 = any free port)", "HOST:PORT" },
		{ "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &c.data_dir, "Directory for the chat store and other persistent state (default ./parley-data)", "DIR" },
		{ "auth-secret", 0, 0, G_OPTION_ARG_STRING, &c.secret, "HS256 secret for join tokens; also PARLEY_AUTH_SECRET (default: none, rooms are open)", "S" },
		{ "web-root", 0, 0, G_OPTION_ARG_FILENAME, &c.web_root, "Folder served at / (default: the web demo)", "DIR" },
		{ "log-level", 0, 0, G_OPTION_ARG_STRING, &c.log_level, "error, warn, info, debug or trace (default info)", "LEVEL" },
		{ "log-tags", 0, 0, G_OPTION_ARG_STRING, &c.log_tags, "Comma-separated tags to log (sig,chat,http,...) or all", "TAGS" },
		{ "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &c.sets, "Override any config key, e.g. --set limits.chat_per_s=0 (repeatable)", "SECTION.KEY=VALUE" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &c.version, "Print the version and exit", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("[token --room R --user U [--ttl S]] - Parley WebRTC SFU and signaling server");
	GError *gerr = NULL;
	int rc = 0;

	*exit_now = false;
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Subcommands:\n  token    print a join token (see 'parleyd token --help')\n\n"
		"Every configuration key is documented in docs/parleyd.example.ini.\n");
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "parleyd: %s (try --help)\n", gerr->message);
		g_error_free(gerr);
		rc = PL_EINVAL;
	} else if (c.version) {
		printf("parleyd %s\n", PL_VERSION);
		*exit_now = true;
	} else if (argc > 1) {
		fprintf(stderr, "parleyd: unexpected argument '%s' (try --help)\n", argv[1]);
		rc = PL_EINVAL;
	} else {
		rc = apply_cli(cfg, &c);
	}
	g_option_context_free(ctx);
	g_free(c.config), g_free(c.listen), g_free(c.data_dir), g_free(c.secret);
	g_free(c.web_root), g_free(c.log_level), g_free(c.log_tags);
	g_strfreev(c.sets);
	return rc;
}
