#!/usr/bin/env bash
# The tunnel on an impaired path: 20 ms of round trip and 0.5% loss each way
# on the player's link, made by tools/impair (this kernel has no netem).
#
#   [lan] 10.77.0.1 <- dnsmasq, iperf3
#     |
#   [gw] lanparty-gateway, wan0 198.18.0.2 --+
#   [relay] br-inet 198.18.0.1 <- lanparty-relay
#   [c1] wan0 198.18.0.3 -- p-c1 <- impair (10 ms, 0.5% each way) -> br-inet
#        lanparty0 (TAP) <- lanparty-client, udhcpc
#
# The same iperf3 transfer runs through the tunnel (c1 -> relay -> gateway ->
# LAN host) and without it (c1 -> gw wan0, plain IP over the same impaired
# link), two interleaved pairs of 4 s each way; the tunnel must keep at least
# LP_IMPAIR_MIN_RATIO of the plain path (default 0.5; bench/impaired.sh has
# the 0.8 target). The players' TCP is CUBIC. Needs root.
# Usage: tests/netns/impaired.sh [BUILD_DIR]
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
. tests/netns/lib.sh
min_ratio=${LP_IMPAIR_MIN_RATIO:-0.5}
secs=4
tcp_cc=cubic # the players' default (the namespaces inherit this machine's BBR)

if [ "$(id -u)" -ne 0 ]; then
	echo "impaired: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi
for exe in src/relay/lanparty-relay src/gateway/lanparty-gateway src/client/lanparty-client \
	tools/impair/impair; do
	[ -x "$LP_BUILD/$exe" ] || { echo "impaired: $LP_BUILD/$exe is not built" >&2; exit 1; }
done

passed=0
failed=0
cleanup() {
	lp_topology_down
	if [ $failed -gt 0 ]; then
		echo "impaired: logs kept in $LP_TMP"
	else
		rm -rf "$LP_TMP"
	fi
}
trap cleanup EXIT

check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
}

lp_topology_up
lp_impair_up --seed 11 --both delay=10ms,loss=0.5%
lp_start_relay
lp_start_gateway
lp_start_client c1
lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted || true
lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted || true

case_rtt() { # the tool is on the path: plain pings take 20 ms
	local avg
	avg=$(ns c1 ping -c 10 -i 0.05 -q 198.18.0.2 | awk -F/ '/^rtt/ {print $5}')
	echo "   plain RTT c1 -> gw: ${avg:-none} ms"
	awk -v a="${avg:-0}" 'BEGIN { exit !(a >= 19.5 && a < 40) }'
}
check "the impaired link adds its 20 ms of round trip" case_rtt

case_dhcp() {
	local ip
	ip=$(lp_dhcp c1) || return 1
	echo "   c1 got $ip"
	[[ $ip == 10.77.0.* ]]
}
check "DHCP completes through the tunnel at 0.5% loss" case_dhcp

# iperf NS_SERVER ADDR [-R]: c1's iperf3 client, receiver Mbit/s (0 on failure)
iperf() {
	ns "$1" timeout $((secs + 15)) iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$! out
	sleep 0.3
	out=$(ns c1 iperf3 -c "$2" -t "$secs" -f m -C "$tcp_cc" ${3:-} 2>/dev/null | awk '/receiver/ {print $7}')
	wait $spid 2>/dev/null
	echo "${out:-0}"
}

case_tcp() { # $1: "" (up) or -R (down); two interleaved pairs, compared by their sums
	local tun=0 plain=0 t p
	for _ in 1 2; do
		t=$(iperf lan 10.77.0.1 "$1")
		p=$(iperf gw 198.18.0.2 "$1")
		echo "   tunnel $t Mbit/s, plain IP $p Mbit/s on the same link"
		tun=$(awk -v a="$tun" -v b="$t" 'BEGIN { print a + b }')
		plain=$(awk -v a="$plain" -v b="$p" 'BEGIN { print a + b }')
	done
	echo "   ratio $(awk -v a="$tun" -v b="$plain" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	awk -v a="$tun" -v b="$plain" -v r="$min_ratio" 'BEGIN { exit !(b > 0 && a >= r * b) }'
}
check "TCP up through the tunnel keeps ${min_ratio}x the plain impaired path" case_tcp ""
check "TCP down through the tunnel keeps ${min_ratio}x the plain impaired path" case_tcp -R

case_counters() { # the tool lost what it was told to, and sent the rest
	local lost in errs
	in=$(lp_impair_stats a2b in)
	lost=$(lp_impair_stats a2b lost)
	errs=$(($(lp_impair_stats a2b send_errors) + $(lp_impair_stats b2a send_errors)))
	echo "   upload: $lost of $in frames lost; $errs send errors"
	[ "${in:-0}" -gt 1000 ] && [ "$errs" -eq 0 ] &&
		awk -v l="$lost" -v n="$in" 'BEGIN { exit !(l / n > 0.003 && l / n < 0.007) }'
}
check "the tool drops about 0.5% and sends every other frame" case_counters

echo "impaired: $passed passed, $failed failed"
[ $failed -eq 0 ]
