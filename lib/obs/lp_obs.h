/*
 * lp_obs.h - the diagnostics vocabulary: the standard log sink for the
 * binaries, frame log events, tunnel counters, and the client diagnostics
 * snapshot with the short status lines users read.
 */
#ifndef LP_OBS_H
#define LP_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lp_base.h"
#include "lp_proto.h"

/* ---- Log sink for binaries ----------------------------------------------
 * Plain text lines "2026-11-25T10:00:00.123Z lanparty-relay info: text" on a
 * stream (stderr by default), or JSON lines
 * {"ts":"...","prog":"lanparty-relay","level":"info","msg":"text"}.
 * Libraries reach it only through the struct lp_logger it fills in.
 */
enum lp_obs_format { LP_OBS_FORMAT_TEXT = 0, LP_OBS_FORMAT_JSON };

struct lp_obs_sink {
	struct lp_logger logger; /* hand &sink.logger to libraries */
	FILE *out;
	enum lp_obs_format format;
	char prog[48];
};

/* Sets up a sink writing to out (stderr when NULL). */
void lp_obs_sink_init(struct lp_obs_sink *s, const char *prog, enum lp_log_level level,
                      enum lp_obs_format format, FILE *out);
/* "error", "warn", "info", "debug", "trace" -> level. LP_ERR_INVAL. */
int lp_obs_level_parse(const char *s, enum lp_log_level *out) LP_WUR;
const char *lp_obs_level_name(enum lp_log_level level);

/* ---- Drop reasons and tunnel counters ----------------------------------- */
enum lp_drop_reason {
	LP_DROP_NONE = 0,
	LP_DROP_TOO_BIG,        /* encoded datagram exceeds the budget */
	LP_DROP_MALFORMED,      /* overlay or Ethernet header invalid */
	LP_DROP_TRUNCATED,      /* capture reported MSG_TRUNC */
	LP_DROP_QUEUE_FULL,     /* congestion: send queue tail drop */
	LP_DROP_UNKNOWN_DEST,   /* unknown unicast with nowhere to go */
	LP_DROP_NOT_READY,      /* session not admitted yet */
	LP_DROP_IO,             /* TAP / LAN / socket write failed */
	LP_DROP_LOOP,           /* would send a frame back where it came from */
	LP_DROP_INVALID_SRC,    /* filtered: multicast or zero source MAC */
	LP_DROP_SPOOFED_SRC,    /* filtered: client sent as another MAC */
	LP_DROP_JUMBO,          /* filtered: larger than the room MTU */
	LP_DROP_SWITCH_CONTROL, /* filtered: 802.1 reserved group address */
	LP_DROP_DHCP_SERVER,    /* filtered: DHCP server reply from a client */
	LP_DROP_IPV6_RA,        /* filtered: IPv6 router advertisement from a client */
	LP_DROP_DHCPV6_SERVER,  /* filtered: DHCPv6 server message from a client */
	LP_DROP_IPV6_FRAGMENT,  /* filtered: IPv6 fragment that may hide an RA (client) */
	LP_DROP_VLAN_TAGGED,    /* filtered: 802.1Q/802.1ad-tagged frame from a client */
	LP_DROP_LAN_MAC,        /* filtered (gateway): room frame from a MAC seen on the LAN */
	LP_DROP_ICMP_ROUTER,    /* filtered: ICMP redirect / IRDP advertisement from a client */
	LP_DROP_RATE_BROADCAST, /* rate-limited: broadcast/multicast */
	LP_DROP_RATE_UNKNOWN,   /* rate-limited: unknown unicast */
	LP_DROP_RATE_TOTAL,     /* rate-limited: total bandwidth */
	LP_DROP_RATE_ROOM,      /* rate-limited: the room's budget (relay) */
	/* Private rooms: the receiving peer's opener (lib/room) and the relay. */
	LP_DROP_UNSEALED, /* a frame without SEALED in a private room (or with it in an open one) */
	LP_DROP_AUTH,     /* the GCM tag did not verify: altered or forged */
	LP_DROP_REPLAY,   /* a counter already seen */
	LP_DROP_TOO_OLD,  /* a counter below the replay window */
	LP_DROP_RETIRED_EPOCH, /* an epoch its sender left behind */
	LP_DROP__COUNT
};

/* Stable snake_case name ("too_big", "dhcp_server", ...), used in logs and in
 * the stats control message. */
const char *lp_obs_drop_name(enum lp_drop_reason r);
/* Inverse of lp_obs_drop_name; LP_ERR_NOT_FOUND for unknown names. */
int lp_obs_drop_from_name(const char *name, enum lp_drop_reason *out) LP_WUR;

struct lp_counters {
	uint64_t frames_rx;    /* Ethernet frames received from the tunnel */
	uint64_t frames_tx;    /* Ethernet frames sent into the tunnel */
	uint64_t datagrams_rx; /* QUIC datagrams received */
	uint64_t datagrams_tx; /* QUIC datagrams sent */
	uint64_t bytes_rx;
	uint64_t bytes_tx;
	uint64_t broadcast_rx; /* broadcast/multicast frames received */
	uint64_t drops[LP_DROP__COUNT];
};

uint64_t lp_obs_drops_total(const struct lp_counters *c);
static inline void lp_obs_count_drop(struct lp_counters *c, enum lp_drop_reason r)
{
	c->drops[r]++;
}

/* ---- Frame log events ---------------------------------------------------- */
enum lp_obs_dir {
	LP_OBS_DIR_FROM_RELAY = 0, /* tunnel -> local (TAP / LAN) */
	LP_OBS_DIR_TO_RELAY,       /* local -> tunnel */
	LP_OBS_DIR_RELAY_INGRESS   /* relay: frame arriving from a peer */
};

enum lp_obs_action { LP_OBS_FORWARDED = 0, LP_OBS_DROPPED, LP_OBS_FILTERED, LP_OBS_RATE_LIMITED };

struct lp_obs_frame_event {
	enum lp_obs_dir dir;
	const char *room; /* NULL outside the relay */
	int64_t peer_id;  /* -1 when unknown */
	struct lp_mac src;
	struct lp_mac dst;
	uint16_t ethertype; /* inner ethertype */
	size_t frame_len;
	enum lp_obs_action action;
	enum lp_drop_reason reason; /* LP_DROP_NONE when forwarded */
	unsigned targets;           /* peers the frame went to */
};

const char *lp_obs_action_name(enum lp_obs_action a);
const char *lp_obs_dir_name(enum lp_obs_dir d);
/* The action a drop reason implies (filtered / rate-limited / dropped). */
enum lp_obs_action lp_obs_action_for(enum lp_drop_reason r);
/*
 * One line: "frame dir=to_relay room=R peer=3 src=.. dst=.. type=0x0800
 * len=98 action=forwarded targets=2" (reason=... when dropped). Returns the
 * length or LP_ERR_NOBUF.
 */
int lp_obs_frame_event_format(const struct lp_obs_frame_event *ev, char *out, size_t cap) LP_WUR;
/* Fills an event from a frame (parses MACs and ethertype; runts get zeros). */
void lp_obs_frame_event_from_frame(struct lp_obs_frame_event *ev, const uint8_t *frame, size_t len);

/* ---- Client diagnostics snapshot ---------------------------------------- */
enum lp_obs_tap_state { LP_OBS_TAP_ABSENT = 0, LP_OBS_TAP_DOWN, LP_OBS_TAP_UP };

enum lp_obs_route_state {
	LP_OBS_ROUTE_NA = 0, /* platform does not pin routes (Linux) */
	LP_OBS_ROUTE_PINNED, /* relay route uses the pinned pre-TAP route */
	LP_OBS_ROUTE_LOST    /* relay route now leaves through another path */
};

struct lp_obs_diag {
	bool relay_connected;
	bool gateway_present;
	size_t datagram_budget; /* current largest overlay datagram */
	uint32_t mtu;           /* room MTU from the welcome */
	enum lp_obs_tap_state tap;
	char tap_name[64];
	char tap_ip[64]; /* "" until an IPv4 address appears */
	enum lp_obs_route_state route;
	uint64_t reconnects;
	struct lp_counters counters;
};

typedef void (*lp_obs_line_fn)(void *user, const char *line);

/*
 * Emits the short user-facing status lines for a snapshot, e.g.
 *   "relay: connected; LAN gateway present"
 *   "tunnel: datagram budget 1407 bytes, MTU 1380"
 *   "tap: tap0 up, IPv4 10.77.0.23"
 *   "warning: TAP has no IPv4 address yet (waiting for DHCP from the LAN)"
 *   "broadcast: 12 LAN broadcast frames seen"
 *   "traffic: rx 120 frames / 15.2 KB, tx 80 frames / 9.1 KB, drops 0"
 * `prev` (may be NULL) is the previous snapshot: lines that announce a
 * change ("DHCP address acquired", "broadcast flow confirmed",
 * "LAN gateway joined/left") are only emitted when the state changed.
 */
void lp_obs_diag_lines(const struct lp_obs_diag *d, const struct lp_obs_diag *prev,
                       lp_obs_line_fn emit, void *user);

#endif /* LP_OBS_H */
