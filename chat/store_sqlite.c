/* chat/store_sqlite.c: the SQLite backend of the chat store.
 *
 * One connection, opened and migrated on the owner thread by open(), then
 * used only by the store's worker thread until close().  The database runs
 * in WAL mode with synchronous=FULL, so a COMMIT returns only once the WAL
 * is on disk: that is what lets the front acknowledge an append.  Every
 * statement is prepared once, at open, and reused for the life of the
 * connection.
 *
 * Schema.  The version lives in PRAGMA user_version; `migrations` is the
 * ordered list of steps, and open applies the missing ones in a single
 * transaction (a database newer than this build is refused).  Messages are
 * a WITHOUT ROWID table clustered on (room, seq), so a room's history is one
 * contiguous range.  The text comes last among the columns so that reading
 * the short ones never touches its overflow pages.  A unique partial index
 * on (room, from_user, client_msg_id) answers dedupe lookups and enforces
 * them.  History is filtered by visibility (room messages, and DMs the user
 * sent or received); a plain range scan would have to walk past every DM
 * between other users, so each visibility class has its own index (room
 * messages; DMs by sender; DMs by recipient) and the page query merges the
 * three ordered ranges (SQLite's MERGE of a UNION ALL), stopping after
 * limit + 1 rows whatever the mix of the room.
 *
 * Sequence numbers.  The last seq and ts of each room used recently are
 * cached (loaded from the table on first use, inside the transaction).  A
 * batch updates the cache as it inserts; if the batch rolls back, the whole
 * cache is dropped, since it then describes rows that do not exist, and is
 * reloaded on demand.  Nothing else writes the table, and if something did,
 * the primary key would reject the duplicate seq, the batch would roll
 * back, and the reloaded cache would be right again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "chat/store_backend.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#define BUSY_TIMEOUT_MS 5000
#define SEQ_BUCKETS 1024
#define SEQ_CACHE_MAX 8192   /* rooms remembered before the cache is reset */

/* Schema steps; user_version = the number applied.  Append, never edit. */
static const char *const migrations[] = {
	/* 1: messages, dedupe, and per-visibility paging indexes. */
	"CREATE TABLE messages ("
	" room TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" ts INTEGER NOT NULL,"
	" from_pid TEXT NOT NULL,"
	" from_user TEXT NOT NULL,"
	" from_display TEXT NOT NULL,"
	" to_pid TEXT,"
	" to_user TEXT,"
	" client_msg_id TEXT,"
	" text TEXT NOT NULL,"
	" PRIMARY KEY (room, seq)"
	") WITHOUT ROWID;"
	"CREATE UNIQUE INDEX messages_dedupe ON messages (room, from_user, client_msg_id)"
	" WHERE client_msg_id IS NOT NULL;"
	"CREATE INDEX messages_public ON messages (room, seq) WHERE to_user IS NULL;"
	"CREATE INDEX messages_dm_from ON messages (room, from_user, seq)"
	" WHERE to_user IS NOT NULL;"
	"CREATE INDEX messages_dm_to ON messages (room, to_user, seq)"
	" WHERE to_user IS NOT NULL;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The columns row_to_msg() reads, in its order. */
#define MSG_COLS "seq, ts, from_pid, from_user, from_display, to_pid, to_user, text," \
	" client_msg_id"

/* ?1 room, ?2 seq bound, ?3 user, ?4 row limit.  The arms are disjoint:
 * room messages; DMs the user sent; DMs the user received from others. */
#define PAGE_SQL(cmp, dir)                                                          \
	"SELECT " MSG_COLS " FROM messages"                                         \
	" WHERE room = ?1 AND seq " cmp " ?2 AND to_user IS NULL"                   \
	" UNION ALL SELECT " MSG_COLS " FROM messages"                              \
	" WHERE room = ?1 AND seq " cmp " ?2 AND to_user IS NOT NULL AND from_user = ?3" \
	" UNION ALL SELECT " MSG_COLS " FROM messages"                              \
	" WHERE room = ?1 AND seq " cmp " ?2 AND to_user = ?3 AND from_user <> ?3"  \
	" ORDER BY seq " dir " LIMIT ?4"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_DEDUPE,
	ST_LAST,
	ST_INSERT,
	ST_PAGE_DESC,
	ST_PAGE_ASC,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_DEDUPE] = "SELECT " MSG_COLS " FROM messages"
		      " WHERE room = ?1 AND from_user = ?2 AND client_msg_id = ?3",
	[ST_LAST] = "SELECT seq, ts FROM messages WHERE room = ?1 ORDER BY seq DESC LIMIT 1",
	[ST_INSERT] = "INSERT INTO messages (room, seq, ts, from_pid, from_user,"
		      " from_display, to_pid, to_user, client_msg_id, text)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_PAGE_DESC] = PAGE_SQL("<", "DESC"),
	[ST_PAGE_ASC] = PAGE_SQL(">", "ASC"),
};

/* The last stored message of a room, as far as this connection knows. */
struct room_seq {
	struct room_seq *next;
	uint64_t seq;    /* 0 for an empty room */
	int64_t ts_ms;   /* the next message's ts is at least this */
	char room[];
};

struct seq_cache {
	struct room_seq *bucket[SEQ_BUCKETS];
	size_t n;
};

struct sqlite_be {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct seq_cache cache;
};

/* ---- seq cache ------------------------------------------------------ */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct room_seq *cache_find(struct seq_cache *c, const char *room)
{
	struct room_seq *e = c->bucket[hash_str(room) % SEQ_BUCKETS];

	while (e && strcmp(e->room, room) != 0)
		e = e->next;
	return e;
}

static struct room_seq *cache_add(struct seq_cache *c, const char *room)
{
	size_t len = strlen(room) + 1;
	struct room_seq *e = malloc(sizeof(*e) + len);
	uint32_t h = hash_str(room) % SEQ_BUCKETS;

	if (!e)
		return NULL;
	memcpy(e->room, room, len);
	e->seq = 0, e->ts_ms = 0;
	e->next = c->bucket[h];
	c->bucket[h] = e;
	c->n++;
	return e;
}

static void cache_clear(struct seq_cache *c)
{
	for (size_t i = 0; i < SEQ_BUCKETS; i++) {
		struct room_seq *e, *next;

		for (e = c->bucket[i]; e; e = next) {
			next = e->next;
			free(e);
		}
		c->bucket[i] = NULL;
	}
	c->n = 0;
}

/* ---- statements ----------------------------------------------------- */

/* Steps a statement that returns no rows, then resets it. */
static int run(struct sqlite_be *b, enum stmt_id id)
{
	int rc = sqlite3_step(b->st[id]);

	sqlite3_reset(b->st[id]);
	return rc == SQLITE_DONE ? 0 : PL_EIO;
}

/* Ends a statement that was stepped: resets it and drops the bindings,
 * which may point at memory about to be freed. */
static void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Points m at the current row (valid until the statement moves on). */
static void row_to_msg(sqlite3_stmt *st, const char *room, struct pl_chat_msg *m)
{
	m->room = room;
	m->seq = (uint64_t)sqlite3_column_int64(st, 0);
	m->ts_ms = sqlite3_column_int64(st, 1);
	m->from_pid = (const char *)sqlite3_column_text(st, 2);
	m->from_user = (const char *)sqlite3_column_text(st, 3);
	m->from_display = (const char *)sqlite3_column_text(st, 4);
	m->to_pid = (const char *)sqlite3_column_text(st, 5);
	m->to_user = (const char *)sqlite3_column_text(st, 6);
	m->text = (const char *)sqlite3_column_text(st, 7);
	m->client_msg_id = (const char *)sqlite3_column_text(st, 8);
}

/* ---- appends -------------------------------------------------------- */

/* Loads (or finds) the cached last seq of room. */
static int room_state(struct sqlite_be *b, const char *room, struct room_seq **out)
{
	sqlite3_stmt *st = b->st[ST_LAST];
	struct room_seq *e = cache_find(&b->cache, room);
	int rc;

	if (e) {
		*out = e;
		return 0;
	}
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK)
		return PL_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		if (!(e = cache_add(&b->cache, room))) {
			finish(st);
			return PL_ENOMEM;
		}
		if (rc == SQLITE_ROW) {
			e->seq = (uint64_t)sqlite3_column_int64(st, 0);
			e->ts_ms = sqlite3_column_int64(st, 1);
		}
	}
	finish(st);
	*out = e;
	return e ? 0 : PL_EIO;
}

/* Looks a's (room, from_user, client_msg_id) up; when stored, replaces
 * a->msg by the stored original and sets a->duplicate. */
static int dedupe_find(struct sqlite_be *b, struct pl_chat_append *a)
{
	sqlite3_stmt *st = b->st[ST_DEDUPE];
	const struct pl_chat_msg *m = &a->msg.m;
	struct pl_chat_owned orig;
	struct pl_chat_msg row;
	int rc = 0, step;

	if (sqlite3_bind_text(st, 1, m->room, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(st, 2, m->from_user, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(st, 3, m->client_msg_id, -1, SQLITE_STATIC)) {
		finish(st);
		return PL_EIO;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		row_to_msg(st, m->room, &row);
		rc = pl_chat_owned_copy(&orig, &row);
		if (rc == 0) {
			pl_chat_owned_release(&a->msg);
			a->msg = orig;   /* ownership moves to a */
			a->duplicate = true;
		}
	} else if (step != SQLITE_DONE) {
		rc = PL_EIO;
	}
	finish(st);
	return rc;
}

static int insert(struct sqlite_be *b, const struct pl_chat_msg *m)
{
	sqlite3_stmt *st = b->st[ST_INSERT];
	int rc;

	/* SQLite codes are 0 on success, so one OR catches any failure; a NULL
	 * string binds SQL NULL. */
	rc = sqlite3_bind_text(st, 1, m->room, -1, SQLITE_STATIC) |
	     sqlite3_bind_int64(st, 2, (sqlite3_int64)m->seq) |
	     sqlite3_bind_int64(st, 3, m->ts_ms) |
	     sqlite3_bind_text(st, 4, m->from_pid, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 5, m->from_user, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 6, m->from_display, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 7, m->to_pid, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 8, m->to_user, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 9, m->client_msg_id, -1, SQLITE_STATIC) |
	     sqlite3_bind_text(st, 10, m->text, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	finish(st);
	return rc == SQLITE_OK ? 0 : PL_EIO;
}

static int append_one(struct sqlite_be *b, struct pl_chat_append *a)
{
	struct pl_chat_msg *m = &a->msg.m;
	struct room_seq *rs;
	int64_t now_ms;
	int rc;

	a->duplicate = false;
	if (m->client_msg_id && ((rc = dedupe_find(b, a)) != 0 || a->duplicate))
		return rc;
	if ((rc = room_state(b, m->room, &rs)) != 0)
		return rc;
	now_ms = pl_clock_wall_ms();
	m->seq = rs->seq + 1;
	m->ts_ms = now_ms > rs->ts_ms ? now_ms : rs->ts_ms;   /* never backwards */
	if ((rc = insert(b, m)) != 0)
		return rc;
	rs->seq = m->seq;
	rs->ts_ms = m->ts_ms;
	return 0;
}

static int sqlite_append_batch(void *be, struct pl_chat_append *const *v, size_t n)
{
	struct sqlite_be *b = be;
	int rc;

	if (b->cache.n > SEQ_CACHE_MAX)
		cache_clear(&b->cache);
	if ((rc = run(b, ST_BEGIN)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if ((rc = append_one(b, v[i])) != 0)
			goto fail;
	if ((rc = run(b, ST_COMMIT)) != 0)
		goto fail;
	return 0;
fail:
	PL_LOG(PL_LOG_ERROR, "chat", "batch of %zu appends rolled back: %s", n,
	       rc == PL_ENOMEM ? "out of memory" : sqlite3_errmsg(b->db));
	if (!sqlite3_get_autocommit(b->db))   /* a transaction is still open */
		run(b, ST_ROLLBACK);
	cache_clear(&b->cache);
	return PL_EIO;
}

/* ---- reads ---------------------------------------------------------- */

static int64_t clamp_seq(uint64_t seq)
{
	return seq > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)seq;
}

static int sqlite_history(void *be, const struct pl_chat_query *q, struct pl_chat_page *out)
{
	struct sqlite_be *b = be;
	sqlite3_stmt *st = b->st[q->has_after ? ST_PAGE_ASC : ST_PAGE_DESC];
	int64_t bound = q->has_after ? clamp_seq(q->after)
			: q->has_before ? clamp_seq(q->before) : INT64_MAX;
	struct pl_chat_msg m;
	int rc = 0, step;

	/* One row past the page tells whether more lie beyond it. */
	if (sqlite3_bind_text(st, 1, q->room, -1, SQLITE_STATIC) |
	    sqlite3_bind_int64(st, 2, bound) |
	    sqlite3_bind_text(st, 3, q->user, -1, SQLITE_STATIC) |
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)q->limit + 1)) {
		finish(st);
		return PL_EIO;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == q->limit) {
			out->more = true;
			break;
		}
		row_to_msg(st, q->room, &m);
		if ((rc = pl_chat_page_push(out, &m)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE) {
		PL_LOG(PL_LOG_ERROR, "chat", "[room=%s] history: %s", q->room,
		       sqlite3_errmsg(b->db));
		rc = PL_EIO;
	}
	finish(st);
	if (!q->has_after)
		pl_chat_page_reverse(out);   /* fetched newest first */
	return rc;
}

static int sqlite_last_seq(void *be, const char *room, uint64_t *out)
{
	struct sqlite_be *b = be;
	sqlite3_stmt *st = b->st[ST_LAST];
	int rc = 0, step;

	*out = 0;
	if (sqlite3_bind_text(st, 1, room, -1, SQLITE_STATIC) != SQLITE_OK) {
		finish(st);
		return PL_EIO;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	} else if (step != SQLITE_DONE) {
		PL_LOG(PL_LOG_ERROR, "chat", "[room=%s] last seq: %s", room,
		       sqlite3_errmsg(b->db));
		rc = PL_EIO;
	}
	finish(st);
	return rc;
}

/* ---- open and close ------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	PL_LOG(PL_LOG_ERROR, "chat", "sqlite: %s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return PL_EIO;
}

/* Runs a one-row, one-column integer query (a PRAGMA). */
static int query_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = PL_EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return PL_EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc = PL_EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return PL_EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);

		rc = mode && strcasecmp(mode, "wal") == 0 ? 0 : PL_EIO;
	}
	sqlite3_finalize(st);
	if (rc)
		PL_LOG(PL_LOG_ERROR, "chat", "sqlite: cannot switch to WAL: %s",
		       sqlite3_errmsg(db));
	return rc;
}

/* Brings the schema to N_MIGRATIONS in one transaction. */
static int migrate(sqlite3 *db, const char *path)
{
	char sql[64];
	int version = 0;

	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		return PL_EIO;
	if (query_int(db, "PRAGMA user_version", &version) != 0)
		goto fail;
	if (version > N_MIGRATIONS || version < 0) {
		PL_LOG(PL_LOG_ERROR, "chat", "%s: schema version %d is newer than this "
		       "build's %d", path, version, N_MIGRATIONS);
		goto fail;
	}
	for (int v = version; v < N_MIGRATIONS; v++)
		if (exec_sql(db, migrations[v]) != 0)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
	if (exec_sql(db, sql) != 0 || exec_sql(db, "COMMIT") != 0)
		goto fail;
	if (version < N_MIGRATIONS)
		PL_LOG(PL_LOG_INFO, "chat", "%s: schema migrated from %d to %d", path,
		       version, N_MIGRATIONS);
	return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		exec_sql(db, "ROLLBACK");
	return PL_EIO;
}

static int prepare_all(struct sqlite_be *b)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(b->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &b->st[i], NULL) != SQLITE_OK) {
			PL_LOG(PL_LOG_ERROR, "chat", "sqlite: prepare %s: %s", stmt_sql[i],
			       sqlite3_errmsg(b->db));
			return PL_EIO;
		}
	}
	return 0;
}

/* Accepts half-opened handles. */
static void sqlite_close(void *be)
{
	struct sqlite_be *b = be;

	if (!b)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(b->st[i]);
	if (b->db && sqlite3_close(b->db) != SQLITE_OK)
		PL_LOG(PL_LOG_ERROR, "chat", "sqlite close: %s", sqlite3_errmsg(b->db));
	cache_clear(&b->cache);
	free(b);
}

static int sqlite_open(const struct pl_chat_store_config *cfg, void **out)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	struct sqlite_be *b;

	if (!cfg->path)
		return PL_EINVAL;
	/* The connection moves between threads (open, worker, close), one at a
	 * time: that needs a library built thread-safe, even without mutexes. */
	if (!sqlite3_threadsafe()) {
		PL_LOG(PL_LOG_ERROR, "chat", "sqlite was built without thread support");
		return PL_EIO;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return PL_ENOMEM;
	if (sqlite3_open_v2(cfg->path, &b->db, flags, NULL) != SQLITE_OK) {
		PL_LOG(PL_LOG_ERROR, "chat", "%s: %s", cfg->path,
		       b->db ? sqlite3_errmsg(b->db) : "out of memory");
		goto fail;
	}
	if (sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    set_wal(b->db) != 0 ||
	    exec_sql(b->db, "PRAGMA synchronous=FULL") != 0 ||
	    migrate(b->db, cfg->path) != 0 ||
	    prepare_all(b) != 0)
		goto fail;
	*out = b;
	return 0;
fail:
	sqlite_close(b);
	return PL_EIO;
}

const struct pl_chat_backend_ops pl_chat_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.append_batch = sqlite_append_batch,
	.history = sqlite_history,
	.last_seq = sqlite_last_seq,
};
