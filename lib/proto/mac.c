/* mac.c - MAC address text, classification and generation. */
#include "lp_proto.h"

#include <stdio.h>
#include <string.h>

#define MAC_BIT_GROUP 0x01u
#define MAC_BIT_LOCAL 0x02u

int lp_proto_mac_parse(const char *s, struct lp_mac *out)
{
	struct lp_mac m;
	char sep;
	size_t i;

	if (s == NULL)
		return LP_ERR_MAC_SYNTAX;
	/* Each check stops at the first bad character, so a short string's NUL ends the walk
	 * before anything past it is read. */
	sep = s[0] != '\0' && s[1] != '\0' ? s[2] : '\0';
	if (sep != ':' && sep != '-')
		return LP_ERR_MAC_SYNTAX;
	for (i = 0; i < LP_MAC_LEN; i++) {
		const char *o = s + i * 3;
		int hi, lo;

		hi = lp_hex_val(o[0]);
		if (hi < 0)
			return LP_ERR_MAC_SYNTAX;
		lo = lp_hex_val(o[1]);
		if (lo < 0)
			return LP_ERR_MAC_SYNTAX;
		m.b[i] = (uint8_t)(hi << 4 | lo);
		if (i + 1 < LP_MAC_LEN ? o[2] != sep : o[2] != '\0')
			return LP_ERR_MAC_SYNTAX;
	}
	*out = m;
	return 0;
}

void lp_proto_mac_format(const struct lp_mac *m, char out[LP_MAC_STR_LEN])
{
	snprintf(out, LP_MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2],
	         m->b[3], m->b[4], m->b[5]);
}

bool lp_proto_mac_is_zero(const struct lp_mac *m)
{
	static const struct lp_mac zero;

	return memcmp(m->b, zero.b, LP_MAC_LEN) == 0;
}

bool lp_proto_mac_is_broadcast(const struct lp_mac *m)
{
	static const struct lp_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

	return memcmp(m->b, bcast.b, LP_MAC_LEN) == 0;
}

bool lp_proto_mac_is_group(const struct lp_mac *m)
{
	return (m->b[0] & MAC_BIT_GROUP) != 0;
}

bool lp_proto_mac_is_local(const struct lp_mac *m)
{
	return (m->b[0] & MAC_BIT_LOCAL) != 0;
}

bool lp_proto_mac_equal(const struct lp_mac *a, const struct lp_mac *b)
{
	return memcmp(a->b, b->b, LP_MAC_LEN) == 0;
}

enum lp_mac_kind lp_proto_mac_kind(const struct lp_mac *m)
{
	if (lp_proto_mac_is_zero(m))
		return LP_MAC_KIND_ZERO;
	if (lp_proto_mac_is_broadcast(m))
		return LP_MAC_KIND_BROADCAST;
	if (lp_proto_mac_is_group(m))
		return LP_MAC_KIND_MULTICAST;
	return LP_MAC_KIND_UNICAST;
}

int lp_proto_mac_validate_identity(const struct lp_mac *m)
{
	if (lp_proto_mac_is_zero(m))
		return LP_ERR_MAC_ZERO;
	if (lp_proto_mac_is_group(m))
		return LP_ERR_MAC_GROUP;
	return 0;
}

int lp_proto_mac_validate_generated(const struct lp_mac *m)
{
	int rc;

	rc = lp_proto_mac_validate_identity(m);
	if (rc < 0)
		return rc;
	if (!lp_proto_mac_is_local(m))
		return LP_ERR_MAC_NOT_LOCAL;
	return 0;
}

void lp_proto_mac_from_bytes(const uint8_t rnd[LP_MAC_LEN], struct lp_mac *out)
{
	memcpy(out->b, rnd, LP_MAC_LEN);
	/* Locally administered so it never collides with a vendor OUI; unicast so it can be an
	 * identity. The set local bit also makes the all-zero MAC impossible. */
	out->b[0] = (uint8_t)((out->b[0] | MAC_BIT_LOCAL) & ~MAC_BIT_GROUP);
}

int lp_proto_mac_random(struct lp_mac *out)
{
	uint8_t rnd[LP_MAC_LEN];
	int rc;

	rc = lp_os_random(rnd, sizeof(rnd));
	if (rc < 0)
		return rc;
	lp_proto_mac_from_bytes(rnd, out);
	return 0;
}
