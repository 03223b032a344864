#!/usr/bin/env bash
# Throughput and latency through the tunnel, next to the bare path it rides on,
# measured in the same run (topology: tests/netns/lib.sh).
#
#   tunnel:   player c1 (TAP) -> relay -> gateway -> LAN host 10.77.0.1
#   baseline: c1 wan0 198.18.0.3 -> relay's bridge -> gw wan0 198.18.0.2
#             (the same veth hops the QUIC packets cross, without the tunnel)
#
# The tunnel is measured in an open room and in a private room (frames sealed
# end to end, tests/netns/lib.sh LP_PRIVATE=1) in the same run, alternately:
# LP_BENCH_ROUNDS rounds (3) of open then private, each direction SECONDS
# long, so that the load of a shared machine drifting during the run hits
# both alike; it prints each round, the medians and their private/open ratio.
#
# It also prints the wake-up floor: the RTT of six plain UDP forwarders in a
# chain (bench/wakeup_chain), the number of processes a tunnel round trip wakes.
#
# Usage: bench/lanparty.sh [BUILD_DIR] [SECONDS]   (root; SECONDS per direction, 5)
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
secs=${2:-5}
rounds=${LP_BENCH_ROUNDS:-3}
. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
trap 'lp_topology_down; rm -rf "$LP_TMP"' EXIT

# room_up KIND: gateway and c1 in an open or a private room, c1 with a lease.
room_up() {
	LP_PRIVATE=$([ "$1" = private ] && echo 1 || echo 0)
	lp_start_gateway || { echo "bench: $1 gateway did not start" >&2; return 1; }
	lp_start_client c1
	lp_wait_for 20 "$1 c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; return 1; }
	lp_wait_for 20 "$1 gateway admitted" lp_log_has gateway admitted || return 1
	lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease in the $1 room" >&2; return 1; }
}
room_down() { lp_stop c1 && lp_stop gateway; }

lp_topology_up
lp_start_relay

# iperf NS_SERVER ADDR NS_CLIENT [-R]: receiver Mbit/s
iperf() {
	ns "$1" iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$!
	sleep 0.5
	ns "$3" iperf3 -c "$2" -t "$secs" -f m ${4:-} 2>/dev/null | awk '/receiver/ {print $7}'
	wait $spid 2>/dev/null
}
# rtt NS ADDR: average ms over 50 pings
rtt() {
	ns "$1" ping -c 50 -i 0.02 -q "$2" | awk -F/ '/^rtt/ {print $5}'
}
# The floor: a round trip through the tunnel wakes six sleeping processes
# (client, relay, gateway; each way). The same six plain UDP forwarders,
# without QUIC or a tunnel, at the same ping rate:
floor=$("$LP_BUILD/bench/wakeup_chain" 6 50 20000 | awk '{print $1}')

# median of the arguments
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A up down lat
for r in $(seq "$rounds"); do
	for kind in open private; do
		room_up "$kind" || exit 1
		up[$kind]+=" $(iperf lan 10.77.0.1 c1)"
		down[$kind]+=" $(iperf lan 10.77.0.1 c1 -R)"
		lat[$kind]+=" $(rtt c1 10.77.0.1)"
		eval "${kind}_mtu=\$(ns c1 cat /sys/class/net/lanparty0/mtu)"
		room_down
	done
	printf 'round %d: open up %s down %s, private up %s down %s (Mbit/s)\n' "$r" \
		"${up[open]##* }" "${down[open]##* }" "${up[private]##* }" "${down[private]##* }"
done
# shellcheck disable=SC2086
{
	tun_up=$(median ${up[open]}) tun_down=$(median ${down[open]}) tun_rtt=$(median ${lat[open]})
	priv_up=$(median ${up[private]}) priv_down=$(median ${down[private]})
	priv_rtt=$(median ${lat[private]})
}

base_up=$(iperf gw 198.18.0.2 c1)
base_down=$(iperf gw 198.18.0.2 c1 -R)
base_rtt=$(rtt c1 198.18.0.2)

printf '\n%-34s %12s %12s %8s\n' "path" "tunnel" "bare veth" "ratio"
row() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"; }
row "TCP client -> LAN (Mbit/s)" "$tun_up" "$base_up"
row "TCP LAN -> client (Mbit/s)" "$tun_down" "$base_down"
row "ping RTT (ms)" "$tun_rtt" "$base_rtt"
printf '%-34s %12s\n' "added RTT (ms)" "$(awk -v a="$tun_rtt" -v b="$base_rtt" 'BEGIN { printf "%.3f", a - b }')"
printf '%-34s %12s   (6 plain UDP forwarders in a chain: the wake-up floor)\n' \
	"floor for 6 process hops (ms)" "$floor"
printf '\n%-34s %12s %12s %8s\n' "medians of $rounds rounds" "private" "open" "ratio"
row "TCP client -> LAN (Mbit/s)" "$priv_up" "$tun_up"
row "TCP LAN -> client (Mbit/s)" "$priv_down" "$tun_down"
row "ping RTT (ms)" "$priv_rtt" "$tun_rtt"
printf 'room MTU %s open, %s private; iperf3 %s s per direction; 2 cores shared by every process\n' \
	"${open_mtu:-?}" "${private_mtu:-?}" "$secs"
