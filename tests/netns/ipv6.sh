#!/usr/bin/env bash
# IPv6 across the LAN party, in network namespaces: the lib.sh topology with
# IPv6 added on the LAN and on part of the underlay.
#
#   [lan]   lan0 10.77.0.1/24 + 2001:db8:77::1/64
#           dnsmasq: DHCPv4 and router advertisements (--enable-ra,
#           2001:db8:77::/64 ra-only: SLAAC)
#     |
#   [gw]    lanport <- lanparty-gateway --relay 198.18.0.1:4433 (IPv4 underlay)
#   [relay] br-inet 198.18.0.1/24 + 2001:db8::1/64
#           <- lanparty-relay --listen [::]:4433 (one dual-stack socket)
#   [c1]    wan0 198.18.0.3/24 + 2001:db8::3/64
#           lanparty0 (TAP) <- lanparty-client --relay [2001:db8::1]:4433
#   [c2]    wan0 198.18.0.4/24   lanparty0 (TAP) <- lanparty-client (IPv4 underlay)
#
# 2001:db8::/32 is the documentation range (RFC 3849). Needs root.
# Usage: tests/netns/ipv6.sh [BUILD_DIR]
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
LP_NS=lp6$$
. tests/netns/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "netns-ipv6: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi

LAN6=2001:db8:77
lp_suite netns-ipv6

# dnsmasq advertises the prefix of lan0 every few seconds (and answers
# router solicitations): SLAAC only, no DHCPv6 leases.
LP_DNSMASQ_ARGS="--enable-ra --dhcp-range=$LAN6::,ra-only,64 --ra-param=lan0,3"
lp_topology_up
ns lan ip -6 addr add "$LAN6::1/64" dev lan0 nodad
ns relay ip -6 addr add 2001:db8::1/64 dev br-inet nodad
ns c1 ip -6 addr add 2001:db8::3/64 dev wan0 nodad

LP_RELAY_ADDR="[::]:4433" lp_start_relay
LP_RELAY_ADDR=198.18.0.1:4433 lp_start_gateway
lp_wait_for 15 "gateway admitted" lp_log_has gateway "admitted" || true
LP_RELAY_ADDR="[2001:db8::1]:4433" lp_start_client c1
LP_RELAY_ADDR=198.18.0.1:4433 lp_start_client c2

udp_in() { # udp_in NS Udp6InDatagrams|Udp4: datagrams received in the namespace
	if [ "$2" = Udp4 ]; then
		ns "$1" awk '/^Udp: [0-9]/ {print $2}' /proc/net/snmp
	else
		ns "$1" awk '$1 == "Udp6InDatagrams" {print $2}' /proc/net/snmp6
	fi
}
case_underlay6() {
	lp_wait_for 15 "c1 admitted over IPv6" lp_log_has c1 "admitted" || return 1
	lp_log_has c1 "connecting to relay \[2001:db8::1\]:4433" || return 1
	# c1 sends nothing else over UDP: the tunnel's datagrams are all IPv6.
	ns c1 ping -c 3 -i 0.2 -W 2 -I lanparty0 ff02::1%lanparty0 >/dev/null 2>&1 || true
	local v6 v4
	v6=$(udp_in c1 Udp6)
	v4=$(udp_in c1 Udp4)
	echo "   c1 received $v6 UDP datagrams over IPv6, $v4 over IPv4"
	[ "$v6" -ge 10 ] && [ "$v4" -lt 5 ]
}
check "a player reaches the relay over an IPv6 underlay ([2001:db8::1]:4433)" case_underlay6

slaac_addr() { # slaac_addr NS: the global address SLAAC gave the TAP, once DAD is done
	ns "$1" ip -6 -o addr show dev lanparty0 scope global -tentative | awk '{print $4}' |
		grep "^$LAN6:" | head -1 | cut -d/ -f1
}
has_slaac() { [ -n "$(slaac_addr "$1")" ]; }
c1_ip6=""
c2_ip6=""
case_slaac() {
	lp_wait_for 15 "c2 admitted" lp_log_has c2 "admitted" || return 1
	lp_wait_for 30 "c1 SLAAC address" has_slaac c1 || { ns c1 ip -6 addr show; return 1; }
	lp_wait_for 30 "c2 SLAAC address" has_slaac c2 || return 1
	c1_ip6=$(slaac_addr c1)
	c2_ip6=$(slaac_addr c2)
	echo "   c1 got $c1_ip6, c2 got $c2_ip6 from the LAN router's advertisement"
	# ... and the default route through the LAN router's link-local address.
	ns c1 ip -6 route show default dev lanparty0 | grep -q "via fe80::"
}
check "each player's TAP gets a SLAAC address from the LAN's RA through the tunnel" case_slaac

ping6_ok() { # ping6_ok FROM_NS TO_ADDR
	ns "$1" ping -6 -c 3 -i 0.2 -W 2 "$2" >/dev/null || { echo "   ping6 $1 -> $2 failed"; return 1; }
}
case_ping6() {
	ping6_ok c1 "$LAN6::1" && ping6_ok c2 "$LAN6::1" && ping6_ok lan "$c1_ip6" &&
		ping6_ok c1 "$c2_ip6"
}
check "ping6 crosses player -> LAN host, LAN host -> player, player -> player" case_ping6

case_tcp6() {
	ns lan iperf3 -s -1 -B "$LAN6::1" >"$LP_TMP/iperf6-server.log" 2>&1 &
	local spid=$!
	sleep 0.5
	local out
	out=$(ns c1 iperf3 -6 -c "$LAN6::1" -t 2 -f m 2>&1) || { echo "$out"; wait $spid; return 1; }
	wait $spid
	echo "$out" | awk '/receiver/ {print "   " $0}'
	echo "$out" | grep -q receiver
}
check "TCP over IPv6: player (IPv6 underlay) -> LAN host" case_tcp6

relay_drops() { # relay_drops REASON: the relay's drops_total for it
	ns relay curl -s http://127.0.0.1:9477/metrics |
		awk -v k="lanparty_relay_drops_total{reason=\"$1\"}" '$1 == k {print $2}'
}
case_no_ra_drops() {
	# The LAN router's RAs are the gateway's side: nothing was filtered.
	[ "$(relay_drops ipv6_ra)" = 0 ] && ! grep -q "reason=ipv6_ra" "$LP_TMP/gateway.log"
}
check "the LAN router's advertisements were never filtered" case_no_ra_drops

# Who drops a player's RA: the relay in an open room; in a private room
# (LP_PRIVATE=1) it cannot read it and the receivers do (the gateway logs it).
ra_drops_over() {
	if [ "${LP_PRIVATE:-0}" = 1 ]; then
		[ "$(grep -c "reason=ipv6_ra" "$LP_TMP/gateway.log")" -gt "$1" ]
	else
		[ "$(relay_drops ipv6_ra)" -gt "$1" ]
	fi
}
case_rogue_ra() {
	# Player c2 runs a router of its own on its TAP: a real rogue RA.
	ns c2 ip -6 addr add 2001:db8:bad::4/64 dev lanparty0 nodad
	lp_start rogue c2 dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 \
		--interface=lanparty0 --bind-interfaces --enable-ra \
		--dhcp-range=2001:db8:bad::,ra-only,64 --ra-param=lanparty0,3 \
		--pid-file="$LP_TMP/rogue.pid" --log-facility="$LP_TMP/rogue-dnsmasq.log"
	lp_wait_for 15 "relay drops the rogue RA" ra_drops_over 0 || return 1
	sleep 4 # more than one advertisement interval
	lp_stop rogue
	echo "   relay: drops_total{reason=\"ipv6_ra\"} $(relay_drops ipv6_ra)"
	# Neither the other player nor the LAN took the rogue prefix.
	! ns c1 ip -6 addr show | grep -q 2001:db8:bad: &&
		! ns lan ip -6 addr show | grep -q 2001:db8:bad: &&
		! ns c1 ip -6 route | grep -q 2001:db8:bad:
}
check "a player's own router advertisement is dropped (ipv6_ra) and configures nobody" case_rogue_ra

case_cleanup() {
	lp_topology_down
	LP_PIDS=()
	! ip netns list | grep -q "^$LP_NS-" && ! ip link show "$LP_NS-t1" >/dev/null 2>&1 &&
		! pgrep -f "$LP_TMP" >/dev/null
}
check "no namespace, link or process is left behind" case_cleanup

echo "netns-ipv6: $passed passed, $failed failed"
[ $failed -eq 0 ]
