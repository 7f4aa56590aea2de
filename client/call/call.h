/* client/call/call.h: what the files of parley-call share.
 *
 * call.c is the program (options, the call, the live status, the exit
 * status), call_src.c the media it sends (a tone, WAV, Ogg Opus, the
 * numbered pattern, Y4M, IVF), call_rec.c what it receives (per remote
 * track: counters, and a WAV or IVF recording), call_analyze.c the
 * checker modes the tests use on the recordings (--analyze-wav,
 * --analyze-ivf).
 */
#ifndef PL_CALL_CALL_H
#define PL_CALL_CALL_H

#include "client/client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sources (call_src.c) ------------------------------------------------ */

struct call_asrc;
struct call_vsrc;

struct call_video_opts {
	int width, height, fps, kbps;   /* for encoded sources (pattern, Y4M) */
};

/* spec: "tone", "tone:HZ", a .wav file (48 kHz, 1 or 2 channels, encoded
 * with Opus) or a .ogg/.opus file (Ogg Opus, sent as is).  Files loop.
 * Returns 0 or a PL_E* code with a message in err. */
int call_asrc_open(const char *spec, int kbps, struct call_asrc **out, char *err, size_t errlen);
void call_asrc_close(struct call_asrc *s);
/* The next Opus packet (cap bytes of room) and its duration in 48 kHz
 * samples.  Returns 0 or a PL_E* code. */
int call_asrc_next(struct call_asrc *s, uint8_t *pkt, size_t cap, size_t *len, uint32_t *samples);

/* spec: "pattern" (the numbered test pattern, encoded), a .y4m file
 * (encoded) or a .ivf file (VP8, sent as is).  Files loop. */
int call_vsrc_open(const char *spec, const struct call_video_opts *o, struct call_vsrc **out,
		   char *err, size_t errlen);
void call_vsrc_close(struct call_vsrc *s);
/* The next VP8 frame (borrowed until the next call) and how long until the
 * one after it.  keyframe: one is wanted (PLI); an IVF source starts over
 * at its first frame.  *len 0: nothing to send this time (rate control
 * dropped the frame).  Returns 0 or a PL_E* code. */
int call_vsrc_next(struct call_vsrc *s, bool keyframe, const uint8_t **data, size_t *len,
		   bool *is_key, int64_t *period_us);

/* ---- received tracks (call_rec.c) ----------------------------------------- */

struct call_rec;

/* One remote track as the summary and the exit status see it. */
struct call_track {
	char participant[64], track[32], display[64];
	bool video;
	int64_t added_us, removed_us;   /* monotonic; 0: not (yet) */
	uint64_t frames, bytes, decoded, written;
	char path[512];                 /* the recording, "" if none */
	char ogg_path[512];             /* audio as received (--record-ogg) */
};

/* dir NULL: count only, record nothing; ogg: also write each audio track's
 * Opus packets as they came to an Ogg Opus file (.opus, no re-encoding).
 * Returns NULL if dir cannot be made. */
struct call_rec *call_rec_new(const char *dir, bool ogg, char *err, size_t errlen);
/* Finishes every recording (idempotent), then frees. */
void call_rec_free(struct call_rec *r);
/* All on the client's loop thread, except where noted. */
void call_rec_participant(struct call_rec *r, const char *id, const char *display);
void call_rec_track(struct call_rec *r, enum pl_client_change ev, const struct pl_client_track *t);
void call_rec_frame(struct call_rec *r, const struct pl_client_frame *f);
/* Any thread: finishes the recordings (files complete on disk). */
void call_rec_finish(struct call_rec *r);
/* Any thread: a copy of the tracks, in the order they were announced.
 * The caller g_free()s *out. */
size_t call_rec_tracks(struct call_rec *r, struct call_track **out);

/* ---- analysis (call_analyze.c) --------------------------------------------- */

/* The dominant frequency of a WAV recording, second by second after the
 * first half second; passes when most seconds are within tol_hz of
 * expect_hz (expect_hz 0: print only).  Returns the exit status. */
int call_analyze_wav(const char *path, double expect_hz, double tol_hz);
/* Decodes an IVF recording; passes when at least min_frames decode and,
 * with pattern, at least min_frames carry a readable test-pattern number
 * and the numbers increase, except for at most max_restarts steps back (a
 * looping source that starts over).  Returns the exit status. */
int call_analyze_ivf(const char *path, int min_frames, bool pattern, int max_restarts);

#endif
