/* base.c - error text, monotonic time, log dispatch and log rate limiting. */
#include "lp_base.h"

#include <stdio.h>
#include <string.h>

static const char *const err_text[] = {
	[0] = "success",
	[1] = "invalid argument",
	[2] = "out of memory",
	[3] = "output buffer too small",
	[4] = "input truncated",
	[5] = "trailing bytes after the declared end",
	[6] = "unsupported protocol version",
	[7] = "unknown message type",
	[8] = "frame exceeds the negotiated datagram budget",
	[9] = "payload exceeds the overlay payload ceiling",
	[10] = "runt Ethernet frame (shorter than its header)",
	[11] = "malformed MAC address",
	[12] = "MAC address is all zeros",
	[13] = "MAC address is multicast or broadcast",
	[14] = "MAC address is not locally administered",
	[15] = "datagram budget too small for the minimum MTU",
	[16] = "MTU out of range",
	[17] = "room code is empty",
	[18] = "room code is too long",
	[19] = "room code has a forbidden character",
	[20] = "unknown role",
	[21] = "role and MAC address are inconsistent",
	[22] = "peer id out of range",
	[23] = "control frame length out of range",
	[24] = "control frame is not valid JSON",
	[25] = "required field missing",
	[26] = "field has the wrong type",
	[27] = "field value out of range",
	[28] = "control decoder failed earlier and must be reset",
	[29] = "endpoint host is empty",
	[30] = "bad or missing port",
	[31] = "unbalanced or misplaced brackets",
	[32] = "host is not a valid name or address",
	[33] = "name does not exist",
	[34] = "temporary name resolution failure",
	[35] = "system call failed",
	[36] = "try again later",
	[37] = "TLS failure",
	[38] = "peer certificate not trusted",
	[39] = "peer did not select the softlan ALPN",
	[40] = "QUIC protocol error",
	[41] = "connection closed",
	[42] = "timed out",
	[43] = "peer does not support QUIC DATAGRAM",
	[44] = "not valid in the current state",
	[45] = "rejected by the relay",
	[46] = "not supported on this platform",
	[47] = "not found",
	[48] = "permission denied",
	[49] = "authentication failed",
	[50] = "cryptographic backend failure",
	[51] = "JSON too large, too deep or with too many elements",
};

_Static_assert(LP_ARRAY_LEN(err_text) == (size_t)(-LP_ERR__MIN), "one text per error code");

const char *lp_strerror(int err)
{
	if (err > 0 || err <= LP_ERR__MIN)
		return "unknown error";
	return err_text[-err];
}

void lp_log(const struct lp_logger *lg, enum lp_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!lp_log_enabled(lg, level))
		return;
	va_start(ap, fmt);
	lg->fn(lg->user, level, fmt, ap);
	va_end(ap);
}

void lp_log_ratelimit_init(struct lp_log_ratelimit *rl, uint32_t burst, uint64_t interval_ns)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst = burst;
	rl->tokens = burst;
	rl->interval_ns = interval_ns;
}

int lp_log_ratelimit_ok(struct lp_log_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	if (rl->interval_ns != 0 && now_ns - rl->last_ns >= rl->interval_ns) {
		rl->tokens = rl->burst;
		rl->last_ns = now_ns;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return 0;
	}
	rl->tokens--;
	if (suppressed != NULL)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}

int lp_hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lp_strlcpy_checked(char *dst, size_t cap, const char *src)
{
	int n;

	if (cap == 0)
		return LP_ERR_NOBUF;
	n = snprintf(dst, cap, "%s", src);
	if (n < 0 || (size_t)n >= cap)
		return LP_ERR_NOBUF;
	return 0;
}
