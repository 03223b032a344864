#!/usr/bin/env bash
# The gateway's LAN-host MAC rule, end to end in network namespaces (the
# lib.sh topology). A host on the LAN uses a locally administered MAC (a VM,
# a phone's private address); here raw_send puts its frames on lan0 with
# source 02:00:5e:10:00:01.
#
#   [lan]   lan0 10.77.0.1/24, dnsmasq; "host" 02:00:5e:10:00:01 (raw_send)
#   [gw]    lanport <- lanparty-gateway (remembers LAN sources)
#   [relay] lanparty-relay
#   [c1]    lanparty-client, an honest player
#   [c2]    lanparty-client --virtual-mac 02:00:5e:10:00:01, claiming the host
#
# Needs root. Usage: tests/netns/filters.sh [BUILD_DIR]
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
LP_NS=lpf$$
. tests/netns/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "netns-filters: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi

HOST_MAC=02:00:5e:10:00:01 # raw_send's source address
lp_suite netns-filters

learned() {
	[ "$(ns relay curl -s http://127.0.0.1:9477/metrics |
		awk -v k="lanparty_relay_room_learned_macs{room=\"$(lp_room_label)\"}" \
			'$1 == k {print $2}')" -ge 1 ]
}
admissions_at_least() { [ "$(grep -c admitted "$LP_TMP/$1.log")" -ge "$2" ]; }

lp_topology_up
lp_start_relay
lp_start_gateway
lp_wait_for 15 "gateway admitted" lp_log_has gateway "admitted" || true
lp_start_client c1
lp_wait_for 15 "c1 admitted" lp_log_has c1 "admitted" || true

case_relay_refuses() {
	# The host speaks: the gateway and the relay learn its MAC.
	ns lan "$LP_BUILD/tests/netns/raw_send" lan0 plain 60 || return 1
	lp_wait_for 10 "the relay learns the host's MAC" learned || return 1
	LP_CLIENT_ARGS="--virtual-mac $HOST_MAC" lp_start_client c2
	lp_wait_for 15 "c2 rejected" lp_log_has c2 "duplicate_mac" || return 1
	lp_stop c2
}
check "the relay refuses a player claiming a LAN host's MAC it has learned (duplicate_mac)" \
	case_relay_refuses

c2_frames() { # c2 sends: a DHCP attempt from its TAP (the kernel adds IPv6 ND)
	ns c2 busybox udhcpc -i lanparty0 -s "$LP_SRC/tests/netns/udhcpc-script.sh" \
		-q -n -t 2 -T 1 >"$LP_TMP/c2-dhcp.log" 2>&1
	return 0
}
case_gateway_refuses() {
	# A restarted relay forgot the host; the gateway did not.
	lp_stop relay
	lp_start_relay
	lp_wait_for 40 "gateway readmitted" admissions_at_least gateway 2 || return 1
	lp_wait_for 40 "c1 readmitted" admissions_at_least c1 2 || return 1
	LP_CLIENT_ARGS="--virtual-mac $HOST_MAC" lp_start_client c2
	lp_wait_for 15 "c2 admitted by the relay" lp_log_has c2 "admitted" || return 1
	c2_frames
	lp_wait_for 10 "gateway drops c2's frames as lan_mac" \
		grep -q "src=$HOST_MAC.*reason=lan_mac" "$LP_TMP/gateway.log" || return 1
	grep -m 1 "reason=lan_mac" "$LP_TMP/gateway.log" | sed 's/^/   /'
	# ... and never refreshes the switch for it (refused at peer_joined).
	lp_log_has gateway "client $HOST_MAC uses the MAC of a host on the LAN" || return 1
	# c2 got nothing from the LAN: no DHCP lease.
	! ns c2 ip -4 addr show dev lanparty0 | grep -q "inet 10.77.0."
}
check "the gateway drops a player's frames from a LAN host's MAC (lan_mac), never CAM-refreshes it" \
	case_gateway_refuses

case_honest_player() {
	local ip
	ip=$(lp_dhcp c1) || return 1
	echo "   c1 got $ip"
	ns c1 ping -c 3 -i 0.2 -W 2 10.77.0.1 >/dev/null
}
check "an honest player still gets a lease and reaches the LAN" case_honest_player

case_cleanup() {
	lp_topology_down
	LP_PIDS=()
	! ip netns list | grep -q "^$LP_NS-" && ! ip link show "$LP_NS-t1" >/dev/null 2>&1 &&
		! pgrep -f "$LP_TMP" >/dev/null
}
check "no namespace, link or process is left behind" case_cleanup

echo "netns-filters: $passed passed, $failed failed"
[ $failed -eq 0 ]
