/*
 * lanip.c - LAN IPv4 addresses per MAC, learned from ARP and DHCP ACKs;
 * see lp_proto.h. Every byte is read through lp_buf; the frame is the
 * untrusted LAN's (or a remote player's), so nothing is assumed.
 */
#include <string.h>

#include "lp_proto.h"

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define IPPROTO_UDP_NUM 17
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define BOOTREPLY 2
#define DHCP_MAGIC 0x63825363u
#define DHCP_OPT_PAD 0
#define DHCP_OPT_END 255
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_ACK 5
/* op..file: the fixed BOOTP header before the magic cookie. */
#define BOOTP_CHADDR_OFF 28
#define BOOTP_FIXED_LEN 236

void lp_lanip_init(struct lp_lanip *t)
{
	memset(t, 0, sizeof(*t));
}

/* A host address worth showing: not 0.0.0.0, not 255.255.255.255, not
 * multicast or class E, not loopback. */
static bool ip_usable(const uint8_t ip[4])
{
	return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
}

static int learn(struct lp_lanip *t, const struct lp_mac *mac, const uint8_t ip[4], uint64_t now)
{
	struct lp_lanip_entry *slot = NULL;
	size_t i;

	if (lp_proto_mac_validate_identity(mac) != 0 || !ip_usable(ip))
		return 0;
	for (i = 0; i < t->n; i++) {
		if (lp_proto_mac_equal(&t->e[i].mac, mac)) {
			slot = &t->e[i];
			break;
		}
	}
	if (slot == NULL && t->n < LP_LANIP_MAX)
		slot = &t->e[t->n++];
	if (slot == NULL) {
		slot = &t->e[0];
		for (i = 1; i < t->n; i++) {
			if (t->e[i].seen_ns < slot->seen_ns)
				slot = &t->e[i];
		}
		slot->mac = (struct lp_mac){ { 0 } }; /* a new owner */
	}
	slot->seen_ns = now;
	if (lp_proto_mac_equal(&slot->mac, mac) && memcmp(slot->ip, ip, 4) == 0)
		return 0;
	slot->mac = *mac;
	memcpy(slot->ip, ip, 4);
	return 1;
}

static int from_arp(struct lp_lanip *t, const uint8_t *p, size_t len, uint64_t now)
{
	struct lp_buf b;
	const uint8_t *sha, *spa;
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	struct lp_mac mac;

	lp_buf_init(&b, p, len);
	htype = lp_buf_u16(&b);
	ptype = lp_buf_u16(&b);
	hlen = lp_buf_u8(&b);
	plen = lp_buf_u8(&b);
	op = lp_buf_u16(&b);
	lp_buf_bytes(&b, &sha, LP_MAC_LEN);
	lp_buf_bytes(&b, &spa, 4);
	if (b.err != 0 || htype != ARP_HTYPE_ETHER || ptype != LP_ETHERTYPE_IPV4 ||
	    hlen != LP_MAC_LEN || plen != 4 || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY))
		return 0;
	memcpy(mac.b, sha, LP_MAC_LEN);
	return learn(t, &mac, spa, now);
}

/* True when the options (after the magic cookie) say DHCPACK. */
static bool dhcp_is_ack(struct lp_buf *b)
{
	while (b->err == 0 && lp_buf_left(b) > 0) {
		uint8_t code = lp_buf_u8(b), olen;
		const uint8_t *val;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return false;
		olen = lp_buf_u8(b);
		lp_buf_bytes(b, &val, olen);
		if (b->err == 0 && code == DHCP_OPT_MSG_TYPE)
			return olen == 1 && val[0] == DHCP_ACK;
	}
	return false;
}

static int from_ipv4(struct lp_lanip *t, const uint8_t *p, size_t len, uint64_t now)
{
	struct lp_buf b;
	const uint8_t *yiaddr, *chaddr, *skip;
	uint8_t vihl, proto, op, htype, hlen;
	uint16_t frag, sport, dport;
	size_t ihl;
	struct lp_mac mac;

	lp_buf_init(&b, p, len);
	vihl = lp_buf_u8(&b);
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (b.err != 0 || (vihl >> 4) != 4 || ihl < 20)
		return 0;
	lp_buf_bytes(&b, &skip, 5); /* tos, total length, id */
	frag = lp_buf_u16(&b);
	lp_buf_u8(&b); /* ttl */
	proto = lp_buf_u8(&b);
	lp_buf_bytes(&b, &skip, ihl - 10); /* checksum, addresses, options */
	/* Only a whole, unfragmented UDP datagram from the server port. */
	if (b.err != 0 || proto != IPPROTO_UDP_NUM || (frag & 0x3fff) != 0)
		return 0;
	sport = lp_buf_u16(&b);
	dport = lp_buf_u16(&b);
	lp_buf_bytes(&b, &skip, 4); /* length, checksum */
	if (b.err != 0 || sport != DHCP_SERVER_PORT || dport != DHCP_CLIENT_PORT)
		return 0;
	op = lp_buf_u8(&b);
	htype = lp_buf_u8(&b);
	hlen = lp_buf_u8(&b);
	lp_buf_bytes(&b, &skip, 13); /* hops, xid, secs, flags, ciaddr */
	lp_buf_bytes(&b, &yiaddr, 4);
	lp_buf_bytes(&b, &skip, 8); /* siaddr, giaddr */
	lp_buf_bytes(&b, &chaddr, LP_MAC_LEN);
	lp_buf_bytes(&b, &skip, BOOTP_FIXED_LEN - BOOTP_CHADDR_OFF - LP_MAC_LEN);
	if (b.err != 0 || op != BOOTREPLY || htype != ARP_HTYPE_ETHER || hlen != LP_MAC_LEN ||
	    lp_buf_u32(&b) != DHCP_MAGIC || b.err != 0 || !dhcp_is_ack(&b))
		return 0;
	memcpy(mac.b, chaddr, LP_MAC_LEN);
	return learn(t, &mac, yiaddr, now);
}

int lp_lanip_observe(struct lp_lanip *t, const uint8_t *frame, size_t len, uint64_t now_ns)
{
	struct lp_eth eth;

	if (lp_proto_eth_parse(frame, len, &eth) != 0)
		return 0;
	if (eth.inner_ethertype == LP_ETHERTYPE_ARP)
		return from_arp(t, eth.l3, eth.l3_len, now_ns);
	if (eth.inner_ethertype == LP_ETHERTYPE_IPV4)
		return from_ipv4(t, eth.l3, eth.l3_len, now_ns);
	return 0;
}

int lp_lanip_lookup(const struct lp_lanip *t, const struct lp_mac *mac, uint8_t ip[4])
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (lp_proto_mac_equal(&t->e[i].mac, mac)) {
			memcpy(ip, t->e[i].ip, 4);
			return 0;
		}
	}
	return LP_ERR_NOT_FOUND;
}
