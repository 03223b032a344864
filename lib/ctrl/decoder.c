/* decoder.c - incremental decoder for length-prefixed control frames. */
#include "lp_ctrl.h"

#include <stdlib.h>
#include <string.h>

void lp_ctrl_decoder_init(struct lp_ctrl_decoder *d)
{
	d->prefix_have = 0;
	d->body_len = 0;
	d->body_have = 0;
	d->err = 0;
	/* The 16 KiB body buffer is always written before it is read, so it
	 * is not cleared here. */
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

struct lp_ctrl_decoder *lp_ctrl_decoder_new(void)
{
	struct lp_ctrl_decoder *d = malloc(sizeof(*d));

	if (d != NULL)
		lp_ctrl_decoder_init(d);
	return d;
}

bool lp_ctrl_decoder_idle(const struct lp_ctrl_decoder *d)
{
	return d->err == 0 && d->prefix_have == 0;
}

ssize_t lp_ctrl_decoder_feed(struct lp_ctrl_decoder *d, const uint8_t *data, size_t len,
                             struct lp_ctrl_msg *out)
{
	size_t used = 0, n;
	int rc;

	out->type = LP_CTRL_NONE;
	if (d->err != 0)
		return LP_ERR_DECODER_BROKEN;

	if (d->prefix_have < LP_CTRL_PREFIX_LEN) {
		n = min_size(LP_CTRL_PREFIX_LEN - d->prefix_have, len);
		if (n > 0)
			memcpy(d->prefix + d->prefix_have, data, n);
		d->prefix_have += n;
		used += n;
		if (d->prefix_have < LP_CTRL_PREFIX_LEN)
			return (ssize_t)used;
		d->body_len = (uint32_t)d->prefix[0] << 24 | (uint32_t)d->prefix[1] << 16 |
		              (uint32_t)d->prefix[2] << 8 | (uint32_t)d->prefix[3];
		d->body_have = 0;
		/* Refuse at once: a peer announcing 4 GiB must not make us wait
		 * for (or buffer) any of it. */
		if (d->body_len == 0 || d->body_len > LP_CTRL_FRAME_MAX) {
			d->err = LP_ERR_FRAME_LEN;
			return LP_ERR_FRAME_LEN;
		}
	}

	n = min_size(d->body_len - d->body_have, len - used);
	if (n > 0)
		memcpy(d->body + d->body_have, data + used, n);
	d->body_have += n;
	used += n;
	if (d->body_have < d->body_len)
		return (ssize_t)used;

	/* Frame complete: the next byte starts a new prefix whatever the
	 * body held. */
	d->prefix_have = 0;
	rc = lp_ctrl_parse_json(d->body, d->body_len, out);
	if (rc != 0) {
		d->err = rc;
		return rc;
	}
	return (ssize_t)used;
}
