/* tests/fuzz/fuzz_demux.c: the bundled-transport demultiplexer (RFC 7983,
 * media/rtp.h pl_rtp_demux_classify) and what each class is handed to.
 *
 * One input is one datagram as libnice delivers it to a peer (media/peer.c
 * ice_recv).  The class must follow the RFC 7983 first-byte table (and
 * RFC 5761's second byte for RTP/RTCP); then, as the peer does, DTLS goes
 * to a server-side DTLS association (media/dtls.h, OpenSSL over memory
 * BIOs, as for a client that just sent its ClientHello), RTP to the RTP
 * parser and header extension iterator, RTCP to the compound walker.
 * STUN never reaches Parley's code (libnice consumes it), and ZRTP, TURN
 * channel data and unknown bytes are dropped, which the target checks by
 * the class alone.  DTLS is the expensive branch: the association and its
 * certificate are made once, and each DTLS input starts a fresh
 * association so inputs do not depend on each other.
 */
#include "fuzz.h"

#include "common/err.h"
#include "common/log.h"
#include "media/dtls.h"
#include "media/rtcp.h"
#include "media/rtp.h"

#include <string.h>

static struct pl_dtls_cert *cert;
static size_t dtls_out_bytes;

static void dtls_send(void *ud, const uint8_t *buf, size_t len)
{
	FUZZ_CHECK(buf != NULL && len > 0);
	dtls_out_bytes += len;
}

static void dtls_connected(void *ud, const struct pl_dtls_keys *keys)
{
	FUZZ_CHECK(0 && "a DTLS handshake completed from one datagram");
}

static void dtls_failed(void *ud, int err)
{
	FUZZ_CHECK(err == PL_EPROTO || err == PL_EAUTH || err == PL_ECLOSED);
}

static const struct pl_dtls_callbacks dtls_cb = {
	.send = dtls_send, .connected = dtls_connected, .failed = dtls_failed,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pl_log_configure("error", NULL);
	FUZZ_CHECK(pl_dtls_cert_generate(&cert) == 0);
	return 0;
}

static enum pl_rtp_demux expected(const uint8_t *b, size_t n)
{
	if (n == 0)
		return PL_RTP_DEMUX_UNKNOWN;
	if (b[0] <= 3)
		return PL_RTP_DEMUX_STUN;
	if (b[0] >= 16 && b[0] <= 19)
		return PL_RTP_DEMUX_ZRTP;
	if (b[0] >= 20 && b[0] <= 63)
		return PL_RTP_DEMUX_DTLS;
	if (b[0] >= 64 && b[0] <= 79)
		return PL_RTP_DEMUX_TURN;
	if (b[0] >= 128 && b[0] <= 191 && n >= 2)
		return b[1] >= 192 && b[1] <= 223 ? PL_RTP_DEMUX_RTCP : PL_RTP_DEMUX_RTP;
	return PL_RTP_DEMUX_UNKNOWN;
}

static void to_dtls(const uint8_t *data, size_t size)
{
	struct pl_dtls *d = NULL;
	int rc;

	FUZZ_CHECK(pl_dtls_create(cert, PL_DTLS_SERVER, "sha-256", pl_dtls_cert_fingerprint(cert),
				  &dtls_cb, NULL, &d) == 0);
	FUZZ_CHECK(pl_dtls_start(d) == 0);
	rc = pl_dtls_handle(d, data, size);
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(!pl_dtls_is_connected(d));
	(void)pl_dtls_timeout_ms(d);
	pl_dtls_destroy(d);
}

static void to_rtp(const uint8_t *data, size_t size)
{
	struct pl_rtp_view v;
	struct pl_rtp_ext_iter it;
	struct pl_rtp_ext_elem e;
	size_t n = 0;

	if (pl_rtp_parse(data, size, &v) != 0)
		return;
	FUZZ_CHECK(v.header_len + v.payload_len + v.padding_len == size);
	if (pl_rtp_ext_iter_init(&it, &v) != 0)
		return;
	while (pl_rtp_ext_next(&it, &e) == 0)
		FUZZ_CHECK(++n <= v.ext_len && (e.len == 0 || e.data + e.len <= v.ext + v.ext_len));
}

static void to_rtcp(const uint8_t *data, size_t size)
{
	struct pl_rtcp_iter it;
	struct pl_rtcp_pkt p;
	size_t total = 0;
	int rc;

	pl_rtcp_iter_init(&it, data, size);
	while ((rc = pl_rtcp_iter_next(&it, &p)) == 0) {
		total += p.len;
		FUZZ_CHECK(total <= size);
	}
	FUZZ_CHECK((rc == PL_ENOENT) == (pl_rtcp_compound_check(data, size) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pl_rtp_demux d = pl_rtp_demux_classify(data, size);

	FUZZ_CHECK(d == expected(data, size));
	FUZZ_CHECK(pl_rtp_demux_name(d) != NULL);
	switch (d) {
	case PL_RTP_DEMUX_DTLS:
		to_dtls(data, size);
		break;
	case PL_RTP_DEMUX_RTP:
		to_rtp(data, size);
		break;
	case PL_RTP_DEMUX_RTCP:
		to_rtcp(data, size);
		break;
	default:
		break;
	}
	return 0;
}
