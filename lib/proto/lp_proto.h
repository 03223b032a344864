/*
 * lp_proto.h - the tunnel contract shared by every softlan-vpn binary:
 * the overlay datagram header, datagram budget checks, Ethernet header
 * parsing, MAC addresses and MTU arithmetic.
 *
 * Pure functions over caller memory: no allocation, no I/O, no globals
 * (except lp_proto_mac_random, which reads the OS random source).
 */
#ifndef LP_PROTO_H
#define LP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lp_base.h"

/* ---- Overlay datagram header -------------------------------------------
 *
 * Every QUIC DATAGRAM frame carries one overlay datagram:
 *
 *   byte 0      version (high nibble, LP_PROTO_VERSION) | type (low nibble)
 *   byte 1      flags: LP_PROTO_FLAG_SEALED (0x01, set by the sender of a
 *               private room, authenticated), LP_PROTO_FLAG_FROM_GATEWAY
 *               (0x80, set by the relay on frames from the room's gateway,
 *               not authenticated); every other bit must be 0
 *   bytes 2-3   payload length, big-endian
 *   bytes 4..   payload (type ETHERNET: one whole Ethernet frame, no FCS)
 *
 * The length must match the datagram exactly: trailing bytes are an error.
 */
#define LP_PROTO_VERSION 1
#define LP_PROTO_TYPE_ETHERNET 1
#define LP_PROTO_OVERLAY_HDR_LEN 4
#define LP_PROTO_FLAG_SEALED 0x01u
#define LP_PROTO_FLAG_FROM_GATEWAY 0x80u
#define LP_PROTO_FLAGS_KNOWN (LP_PROTO_FLAG_SEALED | LP_PROTO_FLAG_FROM_GATEWAY)
/* The overlay payload-length ceiling: the largest payload the header can
 * describe. Capture buffers are sized to it so that oversized LAN frames are
 * seen whole before the budget check refuses them. */
#define LP_PROTO_PAYLOAD_MAX 65535u

struct lp_proto_overlay {
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	const uint8_t *payload; /* points into the decoded datagram */
	size_t payload_len;
};

/*
 * Writes the overlay header for a payload of payload_len bytes into out
 * (LP_PROTO_OVERLAY_HDR_LEN bytes). Errors: LP_ERR_NOBUF (cap too small),
 * LP_ERR_PAYLOAD_MAX (payload_len > LP_PROTO_PAYLOAD_MAX), LP_ERR_TYPE
 * (type is not 1..15).
 */
int lp_proto_overlay_hdr_encode(uint8_t *out, size_t cap, uint8_t type, size_t payload_len) LP_WUR;

/*
 * Header + payload copied into out. Returns the datagram length or an error
 * of lp_proto_overlay_hdr_encode.
 */
ssize_t lp_proto_overlay_encode(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload,
                                size_t payload_len) LP_WUR;

/*
 * Decodes one overlay datagram. On success fills *ov (payload points into
 * data). Errors: LP_ERR_TRUNCATED (shorter than the header or the declared
 * payload), LP_ERR_VERSION, LP_ERR_TYPE (unknown type), LP_ERR_INVAL
 * (reserved flags set), LP_ERR_TRAILING (bytes after the payload).
 */
int lp_proto_overlay_decode(const uint8_t *data, size_t len, struct lp_proto_overlay *ov) LP_WUR;

/*
 * Budget check before send: the encoded datagram for a payload of
 * payload_len bytes must fit `budget` (the negotiated QUIC datagram budget).
 * Returns 0 or LP_ERR_TOO_BIG (never fragment) / LP_ERR_PAYLOAD_MAX.
 */
int lp_proto_check_budget(size_t payload_len, size_t budget) LP_WUR;

/* ---- MAC addresses ------------------------------------------------------ */
#define LP_MAC_LEN 6
#define LP_MAC_STR_LEN 18 /* "aa:bb:cc:dd:ee:ff" + NUL */

struct lp_mac {
	uint8_t b[LP_MAC_LEN];
};

enum lp_mac_kind {
	LP_MAC_KIND_UNICAST = 0,
	LP_MAC_KIND_MULTICAST,
	LP_MAC_KIND_BROADCAST,
	LP_MAC_KIND_ZERO
};

/* Parses "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", case-insensitive, two
 * hex digits per octet, one consistent separator. LP_ERR_MAC_SYNTAX. */
int lp_proto_mac_parse(const char *s, struct lp_mac *out) LP_WUR;
/* Lower-case colon form into out (>= LP_MAC_STR_LEN bytes). */
void lp_proto_mac_format(const struct lp_mac *m, char out[LP_MAC_STR_LEN]);
enum lp_mac_kind lp_proto_mac_kind(const struct lp_mac *m);
bool lp_proto_mac_is_group(const struct lp_mac *m); /* multicast or broadcast */
bool lp_proto_mac_is_local(const struct lp_mac *m); /* locally administered bit */
bool lp_proto_mac_is_zero(const struct lp_mac *m);
bool lp_proto_mac_is_broadcast(const struct lp_mac *m);
bool lp_proto_mac_equal(const struct lp_mac *a, const struct lp_mac *b);
/* A peer's own tunnel identity: unicast and non-zero. LP_ERR_MAC_ZERO,
 * LP_ERR_MAC_GROUP. */
int lp_proto_mac_validate_identity(const struct lp_mac *m) LP_WUR;
/* As above and also locally administered (what we generate). Adds
 * LP_ERR_MAC_NOT_LOCAL. */
int lp_proto_mac_validate_generated(const struct lp_mac *m) LP_WUR;
/* A random locally administered unicast MAC from the OS random source.
 * LP_ERR_IO when no randomness is available. */
int lp_proto_mac_random(struct lp_mac *out) LP_WUR;
/* Same, from caller-provided bytes (deterministic; for tests). */
void lp_proto_mac_from_bytes(const uint8_t rnd[LP_MAC_LEN], struct lp_mac *out);

/* ---- Ethernet header ---------------------------------------------------- */
#define LP_ETH_HDR_LEN 14
#define LP_ETH_VLAN_TAG_LEN 4
#define LP_ETH_FRAME_STD_MAX 1514 /* 1500-byte MTU + header, no FCS */
#define LP_ETH_MAX_TAGS 2
#define LP_ETHERTYPE_IPV4 0x0800
#define LP_ETHERTYPE_ARP 0x0806
#define LP_ETHERTYPE_IPV6 0x86dd
#define LP_ETHERTYPE_VLAN 0x8100  /* 802.1Q C-tag */
#define LP_ETHERTYPE_QINQ 0x88a8  /* 802.1ad S-tag */
#define LP_ETHERTYPE_SLOW 0x8809  /* LACP and friends */
#define LP_ETHERTYPE_PAUSE 0x8808 /* MAC control */
#define LP_ETHERTYPE_LLDP 0x88cc

struct lp_eth {
	struct lp_mac dst;
	struct lp_mac src;
	uint16_t ethertype;                  /* the outermost type/length field */
	uint16_t inner_ethertype;            /* after all VLAN tags (== ethertype untagged) */
	unsigned vlan_count;                 /* 0..LP_ETH_MAX_TAGS */
	uint16_t vlan_tpid[LP_ETH_MAX_TAGS]; /* outer first */
	uint16_t vlan_id[LP_ETH_MAX_TAGS];   /* 12-bit VID, outer first */
	size_t header_len;                   /* 14 + 4 * vlan_count */
	size_t frame_len;                    /* the whole frame */
	const uint8_t *l3;                   /* first byte after the header */
	size_t l3_len;
};

/*
 * Parses the Ethernet header and up to two 802.1Q / 802.1ad tags (TPIDs
 * 0x8100, 0x88a8 and the pre-standard S-tag 0x9100, in any order). On
 * success l3 points into frame. Errors: LP_ERR_RUNT (shorter than 14
 * bytes, or than a tag it announces),
 * LP_ERR_INVAL (more than LP_ETH_MAX_TAGS tags).
 */
int lp_proto_eth_parse(const uint8_t *frame, size_t len, struct lp_eth *out) LP_WUR;

/* ---- MTU arithmetic -----------------------------------------------------
 *
 * budget (largest overlay datagram the QUIC path carries)
 *   = LP_PROTO_OVERLAY_HDR_LEN + largest Ethernet frame
 * largest Ethernet frame = LP_ETH_HDR_LEN + interface MTU
 */
#define LP_MTU_MIN 1280u /* IPv6 minimum link MTU: below it IPv6 breaks */
#define LP_MTU_MAX (LP_PROTO_PAYLOAD_MAX - LP_ETH_HDR_LEN)

/* Largest Ethernet frame that fits budget. LP_ERR_BUDGET_SMALL when not even
 * a header fits; budgets above the ceiling are clamped to it. */
int lp_proto_frame_max_from_budget(size_t budget, size_t *frame_max) LP_WUR;
/* Largest interface MTU that fits budget, >= LP_MTU_MIN, else
 * LP_ERR_BUDGET_SMALL. Clamped to LP_MTU_MAX. */
int lp_proto_mtu_from_budget(size_t budget, size_t *mtu) LP_WUR;
/* Budget needed to carry an interface MTU; LP_ERR_MTU_RANGE outside
 * [LP_MTU_MIN, LP_MTU_MAX]. */
int lp_proto_budget_for_mtu(size_t mtu, size_t *budget) LP_WUR;

/* ---- LAN IPv4 addresses seen per MAC (lanip.c) -----------------------------
 * A small table fed with every frame a peer bridges, in either direction:
 *  - ARP requests and replies (Ethernet/IPv4): sender MAC -> sender IPv4,
 *    except probes (sender 0.0.0.0) and group or zero MACs or addresses;
 *  - DHCP ACKs (IPv4 UDP 67 -> 68, BOOTREPLY, option 53 = 5): chaddr ->
 *    yiaddr, the lease a server just confirmed.
 * Anything else (or anything malformed) is ignored; only ARP and IPv4 UDP
 * frames are looked at past the Ethernet header. Bounded: a full table
 * replaces the entry seen longest ago. Not thread-safe; no allocation.
 */
#define LP_LANIP_MAX 256

struct lp_lanip_entry {
	struct lp_mac mac;
	uint8_t ip[4]; /* network order */
	uint64_t seen_ns;
};

struct lp_lanip {
	struct lp_lanip_entry e[LP_LANIP_MAX];
	size_t n;
};

void lp_lanip_init(struct lp_lanip *t);
/* Learns from one Ethernet frame at now_ns. Returns 1 when a MAC got a new
 * (or another) address, 0 when nothing changed. Never fails. */
int lp_lanip_observe(struct lp_lanip *t, const uint8_t *frame, size_t len, uint64_t now_ns);
/* The address last seen for mac: 0, or LP_ERR_NOT_FOUND. */
int lp_lanip_lookup(const struct lp_lanip *t, const struct lp_mac *mac, uint8_t ip[4]) LP_WUR;

#endif /* LP_PROTO_H */
