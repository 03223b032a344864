/*
 * peer_tap.c - the pump's view of a TAP adapter; see peer_tap.h.
 */
#include "peer_tap.h"

#include "lp_tap.h"

static ssize_t tap_read(void *dev, uint8_t *buf, size_t cap)
{
	return lp_tap_read(dev, buf, cap);
}

static ssize_t tap_write(void *dev, const uint8_t *frame, size_t len)
{
	return lp_tap_write(dev, frame, len);
}

static int tap_ipv4(void *dev, char *out, size_t cap)
{
	return lp_tap_ipv4(dev, out, cap);
}

static uint64_t tap_flush(void *dev)
{
	return lp_tap_flush(dev);
}

const struct lp_pump_dev_ops lp_peer_tap_ops = {
	.read = tap_read,
	.write = tap_write,
	.ipv4 = tap_ipv4,
	.flush = tap_flush,
};
