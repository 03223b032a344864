/*
 * lp_l2filter.h - the L2 safety filters: frames a room must never carry,
 * whoever sends them, and frames only the room's LAN gateway may send.
 *
 * One set of checks, run where the frame can be read:
 *   - the relay, in an open room: lp_l2filter_relay (header and payload);
 *   - the relay, in a private room: lp_l2filter_header (it sees only the
 *     clear Ethernet header; the payload is sealed);
 *   - each receiving peer, before its TAP or the LAN: lp_l2filter_rx, on
 *     the opened (plaintext) frame. At a client the sender is the gateway
 *     exactly when the relay set FROM_GATEWAY on the datagram; at the
 *     gateway every room frame comes from a client.
 *
 * Pure functions over caller memory: no allocation, no I/O, no clock. IP
 * headers are read through struct lp_buf. A packet too short to decide is
 * not filtered (it cannot be what a filter looks for, and receiving stacks
 * drop it), with one exception: an IPv6 first fragment whose header chain
 * stops before the upper-layer header (RFC 7112) is dropped from a client.
 *
 * The reasons (lib/obs names, which are also the relay's metric labels):
 *   invalid_src      source MAC multicast, broadcast or zero       (anyone)
 *   spoofed_src      a client's source is not its hello MAC        (relay)
 *   jumbo            longer than room MTU + 14 + 4 per VLAN tag    (relay)
 *   switch_control   destination 01:80:c2:00:00:00..0f             (anyone)
 *   vlan_tagged      802.1Q / 802.1ad tagged frame                 (client)
 *   dhcp_server      DHCPv4 server message                         (client)
 *   dhcpv6_server    DHCPv6 server or relay-reply message          (client)
 *   ipv6_ra          ICMPv6 router advertisement                   (client)
 *   icmp_router      ICMP redirect, IRDP router advertisement,
 *                    ICMPv6 redirect                               (client)
 *   ipv6_fragment    IPv6 fragment that may hide the above         (client)
 * "(client)" means: dropped when a client sent it, passed from the gateway,
 * whose LAN owns the DHCP server and router the room is meant to use.
 */
#ifndef LP_L2FILTER_H
#define LP_L2FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lp_base.h"
#include "lp_obs.h"
#include "lp_proto.h"

#define LP_L2FILTER_DHCP_SERVER_PORT 67
#define LP_L2FILTER_DHCP_CLIENT_PORT 68
#define LP_L2FILTER_DHCPV6_CLIENT_PORT 546
#define LP_L2FILTER_DHCPV6_SERVER_PORT 547
#define LP_L2FILTER_ICMPV6_RA 134
#define LP_L2FILTER_ICMPV6_REDIRECT 137
#define LP_L2FILTER_ICMP_REDIRECT 5
#define LP_L2FILTER_ICMP_ROUTER_ADV 9
#define LP_L2FILTER_IPPROTO_ICMP 1
#define LP_L2FILTER_IPPROTO_UDP 17
#define LP_L2FILTER_IPPROTO_ICMPV6 58

/* Destination 01:80:c2:00:00:00..0f: the IEEE 802.1 reserved group
 * addresses a bridge never forwards (STP, pause, LACP, 802.1X, LLDP...). */
bool lp_l2filter_is_switch_control(const struct lp_mac *dst) LP_WUR;

/*
 * The payload verdict for an IPv4 packet a client sent: LP_DROP_DHCP_SERVER
 * for a UDP datagram of the first fragment that is
 *   - from port 67 (a server or relay agent), or
 *   - to port 68 (only servers and relay agents send to the client port), or
 *   - between ports 67/68 with BOOTP op BOOTREPLY or DHCP message type
 *     (option 53) OFFER, ACK, NAK or FORCERENEW;
 * LP_DROP_ICMP_ROUTER for ICMP type 5 (redirect: hosts follow one sent in
 * their router's name, and the relay never checks IP sources) or 9 (IRDP
 * router advertisement, RFC 1256) in the first fragment; otherwise
 * LP_DROP_NONE. Checks version 4 and 20 <= IHL <= length.
 */
enum lp_drop_reason lp_l2filter_ipv4(const uint8_t *l3, size_t len) LP_WUR;

/*
 * The payload verdict for an IPv6 packet a client sent. Walks the
 * extension headers hop-by-hop (0), routing (43), fragment (44),
 * destination options (60) and AH (51) in any order, then:
 *   LP_DROP_IPV6_RA        ICMPv6 type 134 (RA)
 *   LP_DROP_ICMP_ROUTER    ICMPv6 type 137 (redirect)
 *   LP_DROP_DHCPV6_SERVER  UDP to port 546, from port 547, or to port 547
 *                          with msg-type ADVERTISE, REPLY, RECONFIGURE or
 *                          RELAY-REPL
 *   LP_DROP_IPV6_FRAGMENT  a non-first fragment of ICMPv6 (or of an
 *                          extension header), or a first fragment whose
 *                          header chain ends before the upper-layer header
 * otherwise LP_DROP_NONE.
 */
enum lp_drop_reason lp_l2filter_ipv6(const uint8_t *l3, size_t len) LP_WUR;

/*
 * The checks on the clear Ethernet header, for a frame sent by the gateway
 * (from_gateway) or by a client whose hello MAC is *self. self NULL skips
 * spoofed_src and room_mtu 0 skips jumbo (receiving peers: the relay
 * checked both, and neither can hurt a receiver). Order: invalid_src,
 * spoofed_src, jumbo, switch_control, vlan_tagged.
 */
enum lp_drop_reason lp_l2filter_header(const struct lp_eth *eth, bool from_gateway,
                                       const struct lp_mac *self, size_t room_mtu) LP_WUR;

/* The payload checks (lp_l2filter_ipv4 / _ipv6 on the inner ethertype);
 * LP_DROP_NONE for a frame from the gateway. */
enum lp_drop_reason lp_l2filter_payload(const struct lp_eth *eth, bool from_gateway) LP_WUR;

/* The relay in an open room: lp_l2filter_header, then lp_l2filter_payload. */
enum lp_drop_reason lp_l2filter_relay(const struct lp_eth *eth, bool from_gateway,
                                      const struct lp_mac *self, size_t room_mtu) LP_WUR;

/*
 * A receiving peer, on a whole plaintext frame before it reaches the TAP or
 * the LAN: parses it (LP_DROP_MALFORMED when lp_proto_eth_parse fails),
 * then lp_l2filter_header(eth, from_gateway, NULL, 0) and
 * lp_l2filter_payload. from_gateway: at a client, the datagram's
 * FROM_GATEWAY flag; at the gateway, false.
 */
enum lp_drop_reason lp_l2filter_rx(const uint8_t *frame, size_t len, bool from_gateway) LP_WUR;

#endif /* LP_L2FILTER_H */
