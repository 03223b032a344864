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
# long, so that load drifting on a shared machine hits both rooms alike. It
# prints each round, the medians and their private/open ratio, and the CPU
# the three daemons spent per frame (from /proc, less load-sensitive than
# throughput), and the ceiling the private room's extra AES-GCM work sets
# on its ratio while the shared cores are the limit (bench/seal's seal +
# open per frame, measured in the same run).
#
# It also prints the wake-up floor: the RTT of six plain UDP forwarders in a
# chain (bench/wakeup_chain), the number of processes a tunnel round trip wakes.
#
# Usage: bench/lanparty.sh [BUILD_DIR] [SECONDS]   (root; SECONDS per direction, 8)
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
secs=${2:-8}
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
lp_start_relay --rate-total-mbit 0 --rate-gateway-mbit 0 --rate-gateway-broadcast 0 --rate-room-mbit 0 # raw throughput: uncapped

# cpu_ticks NAME: user + system clock ticks of a daemon so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(lp_pid "$1")/stat"; }
# lan_frames: wire frames the relay forwarded (each also crossed the client
# and the gateway once; veth counters would count GSO super-frames as one)
lan_frames() {
	ns relay curl -s http://127.0.0.1:9477/metrics | awk '/^lanparty_relay_frames_tx_total / { print $2 }'
}
# iperf NS_SERVER ADDR NS_CLIENT [-R]: receiver Mbit/s
iperf() {
	ns "$1" iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$!
	sleep 0.5
	ns "$3" iperf3 -c "$2" -t "$secs" -f m ${4:-} 2>/dev/null | awk '/receiver/ {print $7}'
	wait $spid 2>/dev/null
}
# tunnel_iperf LABEL [-R]: iperf through the tunnel; also records each
# daemon's CPU per frame crossing the LAN port into cpf_LABEL
tunnel_iperf() {
	local label=$1 f0 r0 g0 c0 f1 mbit
	f0=$(lan_frames); r0=$(cpu_ticks relay); g0=$(cpu_ticks gateway); c0=$(cpu_ticks c1)
	mbit=$(iperf lan 10.77.0.1 c1 ${2:-})
	f1=$(lan_frames)
	eval "cpf_$label=\"$(awk -v f=$((f1 - f0)) -v r=$(($(cpu_ticks relay) - r0)) \
		-v g=$(($(cpu_ticks gateway) - g0)) -v c=$(($(cpu_ticks c1) - c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { k = 1e9 / hz / (f > 0 ? f : 1); printf "client %.0f, relay %.0f, gateway %.0f ns/frame (%d frames)", c * k, r * k, g * k, f }')\""
	# the three daemons together, ns per frame
	eval "tot_$label=$(awk -v f=$((f1 - f0)) -v t=$(($(cpu_ticks relay) - r0 + $(cpu_ticks gateway) - g0 + $(cpu_ticks c1) - c0)) \
		-v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1e9 / hz / (f > 0 ? f : 1) }')"
	echo "$mbit"
}
# rtt NS ADDR: average ms over 50 pings
rtt() {
	ns "$1" ping -c 50 -i 0.02 -q "$2" | awk -F/ '/^rtt/ {print $5}'
}
# The floor: a round trip through the tunnel wakes six sleeping processes
# (client, relay, gateway; each way). The same six plain UDP forwarders,
# without QUIC or a tunnel, at the same ping rate:
floor=$("$LP_BUILD/bench/wakeup_chain" 6 50 20000 | awk '{print $1}')
# What a private room adds per frame: one seal at the sender and one open at
# the receiver (bench/seal, one core, 1400-byte frames), in ns.
aead_ns=$("$LP_BUILD/bench/seal" 1 | awk '$1 == "seal+open" { printf "%.0f", 1e9 / $2 }')

load0=$(cut -d' ' -f1-3 /proc/loadavg)
# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A up down lat cpu_up cpu_down
for r in $(seq "$rounds"); do
	for kind in open private; do
		room_up "$kind" || exit 1
		tunnel_iperf "${kind}_up" >"$LP_TMP/mbit"
		up[$kind]+=" $(cat "$LP_TMP/mbit")"
		tunnel_iperf "${kind}_down" -R >"$LP_TMP/mbit"
		down[$kind]+=" $(cat "$LP_TMP/mbit")"
		cpu_up[$kind]+=" $(eval "echo \$tot_${kind}_up")"
		cpu_down[$kind]+=" $(eval "echo \$tot_${kind}_down")"
		lat[$kind]+=" $(rtt c1 10.77.0.1)"
		eval "${kind}_mtu=\$(ns c1 cat /sys/class/net/lanparty0/mtu)"
		room_down
	done
	printf 'round %d: open up %s down %s, private up %s down %s (Mbit/s); load %s\n' "$r" \
		"${up[open]##* }" "${down[open]##* }" "${up[private]##* }" "${down[private]##* }" \
		"$(cut -d' ' -f1 /proc/loadavg)"
done
# shellcheck disable=SC2086
{
	tun_up=$(median ${up[open]}) tun_down=$(median ${down[open]}) tun_rtt=$(median ${lat[open]})
	priv_up=$(median ${up[private]}) priv_down=$(median ${down[private]})
	priv_rtt=$(median ${lat[private]})
	cpu_open_up=$(median ${cpu_up[open]}) cpu_open_down=$(median ${cpu_down[open]})
	cpu_priv_up=$(median ${cpu_up[private]}) cpu_priv_down=$(median ${cpu_down[private]})
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
row "daemons' CPU per frame, up (ns)" "$cpu_priv_up" "$cpu_open_up"
row "daemons' CPU per frame, down (ns)" "$cpu_priv_down" "$cpu_open_down"
# Where every process shares the same cores, a private room's frame costs the
# open room's CPU plus one seal and one open, so while CPU is the limit its
# throughput can reach at most open / (open + seal+open) of the open room's.
printf '%-34s %12s   (bench/seal, this run)\n' "AEAD seal + open per frame (ns)" "${aead_ns:-?}"
printf '%-34s %12s   (open CPU / (open CPU + seal + open), up / down)\n' "private/open ceiling, CPU-bound" \
	"$(awk -v u="$cpu_open_up" -v d="$cpu_open_down" -v a="${aead_ns:-0}" \
		'BEGIN { if (u > 0 && d > 0) printf "%.2f / %.2f", u / (u + a), d / (d + a); else print "-" }')"
printf 'room MTU %s open, %s private; iperf3 %s s per direction; 2 cores shared by every process\n' \
	"${open_mtu:-?}" "${private_mtu:-?}" "$secs"
printf 'CPU per frame, last round, open room, TCP up:      %s\n' "$cpf_open_up"
printf 'CPU per frame, last round, open room, TCP down:    %s\n' "$cpf_open_down"
printf 'CPU per frame, last round, private room, TCP up:   %s\n' "$cpf_private_up"
printf 'CPU per frame, last round, private room, TCP down: %s\n' "$cpf_private_down"
printf 'loadavg at start %s, at end %s\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
