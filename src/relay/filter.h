/*
 * filter.h - the relay's L2 safety filters: frames a room must never carry,
 * whoever sends them, and frames only the LAN gateway may send.
 *
 * Pure functions over a parsed frame (struct lp_eth from lp_proto_eth_parse).
 * IP headers are read through struct lp_buf; a header too short to decide is
 * not filtered (it cannot be what the filter looks for, and the receiving
 * stacks drop it anyway).
 */
#ifndef LP_RELAY_FILTER_H
#define LP_RELAY_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lp_base.h"
#include "lp_ctrl.h"
#include "lp_obs.h"
#include "lp_proto.h"

#define LP_RELAY_DHCP_SERVER_PORT 67
#define LP_RELAY_ICMPV6_RA 134
#define LP_RELAY_IPPROTO_UDP 17
#define LP_RELAY_IPPROTO_ICMPV6 58
#define LP_RELAY_IPV6_HOPOPTS 0

/* Destination 01:80:c2:00:00:00..0f: the IEEE 802.1 reserved group
 * addresses a bridge never forwards (STP, pause, LACP, 802.1X, LLDP...). */
bool lp_relay_filter_is_switch_control(const struct lp_mac *dst) LP_WUR;

/*
 * True when l3 (an IPv4 packet) is a UDP datagram from source port 67: a
 * DHCP server reply. Checks version 4, IHL >= 5 and within the packet, and
 * only reads the UDP header of the first fragment (offset 0).
 */
bool lp_relay_filter_is_dhcp_server(const uint8_t *l3, size_t len) LP_WUR;

/*
 * True when l3 (an IPv6 packet) is an ICMPv6 router advertisement (type
 * 134), with next header 58 directly or after one hop-by-hop options header.
 */
bool lp_relay_filter_is_ipv6_ra(const uint8_t *l3, size_t len) LP_WUR;

/*
 * Runs every filter for one frame sent by a peer of `role` whose identity
 * MAC is `self`, in a room of interface MTU `room_mtu`. Returns LP_DROP_NONE
 * or the first matching reason, checked in this order:
 *   LP_DROP_INVALID_SRC     source is multicast/broadcast or zero (anyone)
 *   LP_DROP_SPOOFED_SRC     a client's source is not its own MAC
 *   LP_DROP_JUMBO           frame_len > room_mtu + 14 + 4 * VLAN tags (anyone)
 *   LP_DROP_SWITCH_CONTROL  destination 01:80:c2:00:00:0x (anyone)
 *   LP_DROP_DHCP_SERVER     DHCP server reply from a client (also VLAN-tagged)
 *   LP_DROP_IPV6_RA         router advertisement from a client (also tagged)
 * DHCP and RA are allowed from the gateway: the LAN it bridges owns the
 * DHCP server and router the room is meant to use.
 */
enum lp_drop_reason lp_relay_filter_frame(const struct lp_eth *eth, enum lp_role role,
                                          const struct lp_mac *self, size_t room_mtu) LP_WUR;

#endif /* LP_RELAY_FILTER_H */
