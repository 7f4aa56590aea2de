/* signaling/config.h: parleyd's configuration.
 *
 * Values come from three layers, later ones winning: built-in defaults,
 * an INI file (--config FILE, GLib GKeyFile syntax; docs/parleyd.example.ini
 * documents every key), then command-line flags and PARLEY_AUTH_SECRET.
 * Single-threaded: filled once at start-up, read-only afterwards.
 */
#ifndef PL_SIGNALING_CONFIG_H
#define PL_SIGNALING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct pl_limits {
	double messages_per_s;       /* per connection; 0 = unlimited */
	double messages_burst;
	double chat_per_s;           /* per connection; 0 = unlimited */
	double chat_burst;
	int max_connections;         /* whole server */
	int max_connections_per_ip;
	int max_rooms;
	int max_participants_per_room;
	int send_queue_max;          /* queued outgoing messages per connection */
	int max_sdp_mlines;          /* m= sections in a pub offer */
	double ip_messages_per_s;    /* all connections of one IP; 0 = unlimited */
	double ip_messages_burst;
	double ip_chat_per_s;        /* all connections of one IP; 0 = unlimited */
	double ip_chat_burst;
};

struct pl_config {
	char *config_file;     /* NULL when none */
	char *listen_host;     /* "127.0.0.1" */
	int listen_port;       /* 8080; 0 = ephemeral */
	char *data_dir;        /* "./parley-data" */
	char *web_root;        /* the web-demo/ folder */
	int max_frame_bytes;   /* 65536 */
	int ws_ping_interval_s;
	int ws_timeout_s;
	char *tls_cert;        /* PEM certificate (chain) for https/wss, or NULL */
	char *tls_key;         /* its PEM private key; both set or neither */
	char *auth_secret;     /* NULL or "" = open rooms */
	char *chat_backend;    /* "sqlite" */
	char *log_level;       /* "info" */
	char *log_tags;        /* "all" */
	struct pl_limits limits;
	/* [media] */
	int media_workers;     /* 0 = one per core */
	char *ice_addresses;   /* comma-separated IPs to gather on: "127.0.0.1" */
	char *stun_server;     /* "IP:PORT" or NULL */
	char *public_ip;       /* 1:1 NAT address advertised, or NULL */
	int rtp_port_min, rtp_port_max;
	char *dtls_cert, *dtls_key; /* PEM files; NULL = generated in data_dir */
	int max_sdp_bytes;
	char *srtp_engine;          /* "builtin" or "libsrtp"; NULL = builtin */
};

/* Fills *cfg with the built-in defaults.  Release with pl_config_release. */
void pl_config_init(struct pl_config *cfg);
void pl_config_release(struct pl_config *cfg);

/* Parses parleyd's command line (argv[0] is the program), loading the
 * --config file first so flags override it.  On --help/--version prints
 * to stdout and sets *exit_now (returns 0).  Returns 0, or PL_EINVAL after
 * printing the reason to stderr. */
int pl_config_from_args(struct pl_config *cfg, int argc, char **argv, bool *exit_now);

/* Loads an INI file over the current values.  Returns 0 or PL_EINVAL/PL_EIO
 * with the reason written into err (errlen bytes). */
int pl_config_load_file(struct pl_config *cfg, const char *path, char *err, size_t errlen);

/* Parses "HOST:PORT" (or ":PORT", or "[v6]:PORT").  Returns 0 or PL_EINVAL. */
int pl_config_parse_listen(struct pl_config *cfg, const char *s);

#endif
