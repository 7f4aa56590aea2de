/* media/rtcp.h: compound RTCP (RFC 3550) and the feedback messages a WebRTC
 * SFU needs: SR, RR, SDES (CNAME), BYE, generic NACK and transport-wide
 * congestion control feedback (RTPFB, RFC 4585 and
 * draft-holmer-rmcat-transport-wide-cc-extensions-01), PLI, FIR (RFC 5104)
 * and REMB (PSFB application layer feedback, draft-alvestrand-rmcat-remb).
 *
 * Reading is two steps: pl_rtcp_iter_next() splits a compound datagram into
 * packets (borrowed struct pl_rtcp_pkt views), then the parser of the
 * packet's type fills a struct.  Writers fill a caller buffer with one
 * packet; a compound packet is their outputs concatenated.
 *
 * Nothing here allocates, logs or keeps state: any thread may call these.
 * Errors: PL_ETRUNC when bytes end before a length they announce, PL_EPROTO
 * for a value the format forbids (wrong version, wrong packet type for the
 * parser, lengths that disagree), PL_ETOOBIG when an output does not fit,
 * PL_EINVAL for arguments a writer cannot encode.
 */
#ifndef PL_MEDIA_RTCP_H
#define PL_MEDIA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"

/* Packet types (RFC 3550, RFC 4585). */
enum {
	PL_RTCP_SR = 200,
	PL_RTCP_RR = 201,
	PL_RTCP_SDES = 202,
	PL_RTCP_BYE = 203,
	PL_RTCP_APP = 204,
	PL_RTCP_RTPFB = 205,
	PL_RTCP_PSFB = 206,
};

/* Feedback message types (the FMT field). */
enum {
	PL_RTCP_FMT_NACK = 1,           /* RTPFB */
	PL_RTCP_FMT_TCC = 15,           /* RTPFB */
	PL_RTCP_FMT_PLI = 1,            /* PSFB */
	PL_RTCP_FMT_FIR = 4,            /* PSFB */
	PL_RTCP_FMT_AFB = 15,           /* PSFB, REMB lives here */
};

#define PL_RTCP_MAX_REPORTS 31          /* a 5-bit count */
#define PL_RTCP_MAX_CHUNKS 31
#define PL_RTCP_MAX_REMB_SSRCS 255

/* One packet of a compound datagram, borrowed from it. */
struct pl_rtcp_pkt {
	uint8_t pt;                     /* packet type, 192-223 */
	uint8_t count;                  /* RC, SC or FMT: the 5 low bits */
	const uint8_t *data;            /* the whole packet, header included */
	size_t len;                     /* bytes, a multiple of 4 */
	const uint8_t *body;            /* after the 4-byte header */
	size_t body_len;                /* without padding */
};

struct pl_rtcp_iter {
	const uint8_t *buf;
	size_t len, off;
	bool failed;
};

void pl_rtcp_iter_init(struct pl_rtcp_iter *it, const uint8_t *buf, size_t len);

/* The next packet of the compound.  Returns 0, PL_ENOENT after the last,
 * PL_ETRUNC when a header or a length runs past the datagram, PL_EPROTO
 * for a version other than 2, a packet type outside 192-223, or padding
 * that is zero, too long or not on the last packet.  After an error the
 * iterator stays at its end. */
int pl_rtcp_iter_next(struct pl_rtcp_iter *it, struct pl_rtcp_pkt *p);

/* Walks a whole compound datagram: 0 when every packet is well-formed at
 * the header level, else the first error of pl_rtcp_iter_next().  An empty
 * datagram is PL_ETRUNC. */
int pl_rtcp_compound_check(const uint8_t *buf, size_t len);

/* ---- SR and RR ------------------------------------------------------- */

struct pl_rtcp_report {
	uint32_t ssrc;
	uint8_t fraction_lost;          /* fixed point, /256 */
	int32_t cumulative_lost;        /* signed 24 bits */
	uint32_t ext_highest_seq;
	uint32_t jitter;
	uint32_t lsr;
	uint32_t dlsr;
};

struct pl_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;                   /* 32.32 fixed point seconds */
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
	uint8_t report_count;
	struct pl_rtcp_report reports[PL_RTCP_MAX_REPORTS];
};

struct pl_rtcp_rr {
	uint32_t ssrc;
	uint8_t report_count;
	struct pl_rtcp_report reports[PL_RTCP_MAX_REPORTS];
};

/* Profile-specific extensions after the report blocks are ignored. */
int pl_rtcp_sr_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_sr *sr);
int pl_rtcp_rr_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_rr *rr);
int pl_rtcp_sr_write(const struct pl_rtcp_sr *sr, uint8_t *buf, size_t cap, size_t *out_len);
int pl_rtcp_rr_write(const struct pl_rtcp_rr *rr, uint8_t *buf, size_t cap, size_t *out_len);

/* ---- SDES ------------------------------------------------------------ */

/* One chunk's source and its CNAME (RFC 3550 section 6.5.1); other items
 * are checked and skipped.  cname is borrowed and not NUL-terminated;
 * NULL when the chunk has none. */
struct pl_rtcp_sdes_chunk {
	uint32_t ssrc;
	const char *cname;
	uint8_t cname_len;
};

struct pl_rtcp_sdes {
	uint8_t chunk_count;
	struct pl_rtcp_sdes_chunk chunks[PL_RTCP_MAX_CHUNKS];
};

int pl_rtcp_sdes_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_sdes *sdes);
/* Writes chunks carrying only a CNAME item each (cname required, 1-255
 * bytes). */
int pl_rtcp_sdes_write(const struct pl_rtcp_sdes *sdes, uint8_t *buf, size_t cap, size_t *out_len);

/* ---- BYE ------------------------------------------------------------- */

struct pl_rtcp_bye {
	uint8_t ssrc_count;
	uint32_t ssrcs[PL_RTCP_MAX_CHUNKS];
	const char *reason;             /* borrowed, not NUL-terminated; NULL: none */
	uint8_t reason_len;
};

int pl_rtcp_bye_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_bye *bye);
int pl_rtcp_bye_write(const struct pl_rtcp_bye *bye, uint8_t *buf, size_t cap, size_t *out_len);

/* ---- Generic NACK (RTPFB FMT 1) -------------------------------------- */

/* Items are borrowed: item i is pl_rd16(items + 4i) (PID) and
 * pl_rd16(items + 4i + 2) (BLP); pl_rtcp_nack_seqs() expands them. */
struct pl_rtcp_nack {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	size_t item_count;
	const uint8_t *items;
};

int pl_rtcp_nack_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_nack *nack);

/* Expands PID/BLP items into sequence numbers, PID first then each set bit
 * of BLP.  *count gets the number written; PL_ETOOBIG when cap (at most 17
 * per item is always enough) is too small. */
int pl_rtcp_nack_seqs(const struct pl_rtcp_nack *nack, uint16_t *seqs, size_t cap, size_t *count);

/* Packs seqs (in order, as a retransmission list usually is) into PID/BLP
 * items: a sequence number within 16 after the current item's PID sets a
 * bit, any other starts a new item.  Returns PL_EINVAL for n == 0. */
int pl_rtcp_nack_write(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs, size_t n,
		       uint8_t *buf, size_t cap, size_t *out_len);

/* ---- PLI and FIR (PSFB FMT 1 and 4) ---------------------------------- */

int pl_rtcp_pli_parse(const struct pl_rtcp_pkt *p, uint32_t *sender_ssrc, uint32_t *media_ssrc);
int pl_rtcp_pli_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *buf, size_t cap,
		      size_t *out_len);

struct pl_rtcp_fir_entry {
	uint32_t ssrc;
	uint8_t seq;
};

/* Entries are borrowed: entry i is at entries + 8i (use pl_rtcp_fir_entry). */
struct pl_rtcp_fir {
	uint32_t sender_ssrc;
	size_t entry_count;
	const uint8_t *entries;
};

int pl_rtcp_fir_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_fir *fir);
struct pl_rtcp_fir_entry pl_rtcp_fir_entry(const struct pl_rtcp_fir *fir, size_t i);
int pl_rtcp_fir_write(uint32_t sender_ssrc, const struct pl_rtcp_fir_entry *entries, size_t n,
		      uint8_t *buf, size_t cap, size_t *out_len);

/* ---- REMB (PSFB FMT 15, "REMB") -------------------------------------- */

struct pl_rtcp_remb {
	uint32_t sender_ssrc;
	uint64_t bitrate_bps;           /* mantissa << exponent */
	uint8_t ssrc_count;
	uint32_t ssrcs[PL_RTCP_MAX_REMB_SSRCS];
};

/* PL_EPROTO also for an AFB message that is not REMB. */
int pl_rtcp_remb_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_remb *remb);
/* The bitrate is rounded down to what an 18-bit mantissa holds. */
int pl_rtcp_remb_write(const struct pl_rtcp_remb *remb, uint8_t *buf, size_t cap, size_t *out_len);

/* ---- Transport-wide congestion control feedback (RTPFB FMT 15) ------- */

struct pl_rtcp_tcc {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint16_t base_seq;
	uint16_t status_count;          /* packets described */
	int32_t ref_time_64ms;          /* signed 24 bits, units of 64 ms */
	uint8_t fb_count;               /* feedback packet count */
};

/* One described packet: seq = base_seq + index.  delta_us (a multiple of
 * 250) is the receive time relative to the previous received packet, or
 * to the reference time for the first; 0 when not received. */
struct pl_rtcp_tcc_status {
	uint16_t seq;
	bool received;
	int32_t delta_us;
};

/* Parses the header and, when st is not NULL, every packet status into
 * st[0..status_count).  PL_ETOOBIG when cap < status_count; PL_EPROTO for
 * a zero status count, a reserved status symbol, or a run that describes
 * more packets than status_count allows. */
int pl_rtcp_tcc_parse(const struct pl_rtcp_pkt *p, struct pl_rtcp_tcc *tcc,
		      struct pl_rtcp_tcc_status *st, size_t cap);

/* Writes h (base_seq, status_count taken from n and st[0].seq) and st[0..n)
 * with run-length chunks for runs and 1- or 2-bit status vectors
 * otherwise.  st[i].seq must be st[0].seq + i; a received delta must be a
 * multiple of 250 us in -8192000..8191750.  Returns 0, PL_EINVAL or
 * PL_ETOOBIG. */
int pl_rtcp_tcc_write(const struct pl_rtcp_tcc *h, const struct pl_rtcp_tcc_status *st, size_t n,
		      uint8_t *buf, size_t cap, size_t *out_len);

#endif
