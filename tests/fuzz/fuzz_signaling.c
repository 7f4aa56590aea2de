/* tests/fuzz/fuzz_signaling.c: signaling messages, through the server's
 * own dispatch (signaling/session.c) and the validators of
 * signaling/proto.h.
 *
 * One input is the text of one WebSocket message.  It is handed to
 * pl_session_handle_text() twice, as parleyd does: once for a session
 * that is not in a room (join, with a token checked against a fixed
 * secret, and everything refused outside a room) and once for a session
 * joined to a room with another member (chat, history, typing, update,
 * leave, the media messages).  The sessions are marked dead, so replies
 * are built and serialized but not queued to a socket, and the server has
 * no chat store and no media workers: a request that passes validation
 * reaches the store or worker call, which refuses it (PL_EINVAL, sent as
 * `internal`), and the media messages stop at "media is unavailable".
 * So what is covered is everything between the bytes and those calls:
 * JSON parsing, id and type checks, every field check, token
 * verification, room registry updates and the error replies.
 *
 * The raw bytes (NUL-terminated, so invalid UTF-8 included, which JSON
 * parsing would refuse earlier) also go to the name and text validators,
 * whose answers are checked against their definitions.
 */
#include "fuzz.h"

#include "common/log.h"
#include "common/utf8.h"
#include "signaling/internal.h"

#include <string.h>

static struct pl_config cfg;
static struct pl_server srv;
static struct pl_session idle, joined, other;
static char text[70000];

static void session_init(struct pl_session *s, uint64_t id)
{
	s->id = id;
	s->srv = &srv;
	s->dead = true; /* replies are built, not queued to a (missing) socket */
	snprintf(s->ip, sizeof(s->ip), "127.0.0.1");
	pl_bucket_init(&s->msg_bucket, 0, 0, 0);   /* rate 0: unlimited */
	pl_bucket_init(&s->chat_bucket, 0, 0, 0);
	s->tracks = json_array();
}

static void session_join(struct pl_session *s, const char *pid, const char *user)
{
	struct pl_room *r = pl_room_get_or_create(&srv, "fuzzroom");

	FUZZ_CHECK(r != NULL);
	pl_room_add(r, s);
	s->room = r;
	s->state = PL_SESSION_JOINED;
	snprintf(s->pid, sizeof(s->pid), "%s", pid);
	g_free(s->room_name), g_free(s->user), g_free(s->display);
	s->room_name = g_strdup("fuzzroom");
	s->user = g_strdup(user);
	s->display = g_strdup(user);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pl_log_configure("error", NULL);
	pl_config_init(&cfg);
	g_free(cfg.auth_secret);
	cfg.auth_secret = g_strdup("fuzz-secret");
	srv.cfg = &cfg;
	srv.sessions = g_hash_table_new(g_int64_hash, g_int64_equal);
	srv.rooms = g_hash_table_new(g_str_hash, g_str_equal);
	session_init(&idle, 1);
	session_init(&joined, 2);
	session_init(&other, 3);
	session_join(&other, "p-000000000003", "carol");
	session_join(&joined, "p-000000000002", "bob");
	return 0;
}

static void check_validators(const char *s)
{
	size_t n = strlen(s);
	bool utf8 = pl_utf8_is_valid(s, n);

	if (pl_proto_room_is_valid(s)) {
		FUZZ_CHECK(n >= 1 && n <= PL_PROTO_ROOM_MAX);
		FUZZ_CHECK(strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789_.-") == n);
	}
	if (pl_proto_display_is_valid(s))
		FUZZ_CHECK(utf8 && pl_utf8_count(s) >= 1 && pl_utf8_count(s) <= PL_PROTO_DISPLAY_MAX);
	if (pl_proto_text_is_valid(s))
		FUZZ_CHECK(utf8 && pl_utf8_count(s) >= 1 && pl_utf8_count(s) <= PL_PROTO_TEXT_MAX);
	else
		FUZZ_CHECK(!utf8 || n == 0 || pl_utf8_count(s) > PL_PROTO_TEXT_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_validators(text);

	idle.errors_in_row = 0; /* ten in a row would close the (missing) socket */
	pl_session_handle_text(&idle, text, size);
	if (idle.state != PL_SESSION_IDLE) {
		/* Only a chat store completion moves a join on; there is none. */
		FUZZ_CHECK(idle.state == PL_SESSION_JOINING);
		FUZZ_CHECK(0 && "a join went ahead without a chat store");
	}

	joined.errors_in_row = 0;
	pl_session_handle_text(&joined, text, size);
	if (joined.state != PL_SESSION_JOINED) /* it left: back in for the next input */
		session_join(&joined, "p-000000000002", "bob");
	FUZZ_CHECK(g_hash_table_size(srv.rooms) == 1);  /* failed joins leave no room behind */
	FUZZ_CHECK(joined.room->members->len == 2);
	return 0;
}
