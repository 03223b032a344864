#!/usr/bin/env bash
# Throughput and latency through the tunnel, next to the bare path it rides on,
# measured in the same run (topology: tests/netns/lib.sh).
#
#   tunnel:   player c1 (TAP) -> relay -> gateway -> LAN host 10.77.0.1
#   baseline: c1 wan0 198.18.0.3 -> relay's bridge -> gw wan0 198.18.0.2
#             (the same veth hops the QUIC packets cross, without the tunnel)
#
# The tunnel is measured twice in the same run: in an open room and in a
# private room (frames sealed end to end, tests/netns/lib.sh LP_PRIVATE=1),
# with the private/open ratio.
#
# It also prints the wake-up floor: the RTT of six plain UDP forwarders in a
# chain (bench/wakeup_chain), the number of processes a tunnel round trip wakes.
#
# Usage: bench/lanparty.sh [BUILD_DIR] [SECONDS]   (root)
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
secs=${2:-10}
. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
trap 'lp_topology_down; rm -rf "$LP_TMP"' EXIT

lp_topology_up
lp_start_relay --rate-total-mbit 0 --rate-gateway-mbit 0 --rate-gateway-broadcast 0 --rate-room-mbit 0 # raw throughput: uncapped
lp_start_gateway
lp_start_client c1
lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; exit 1; }
lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted || exit 1
lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease" >&2; exit 1; }

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

load0=$(cut -d' ' -f1-3 /proc/loadavg)
tunnel_iperf up >"$LP_TMP/up"
tunnel_iperf down -R >"$LP_TMP/down"
tun_rtt=$(rtt c1 10.77.0.1)
open_mtu=$(ns c1 cat /sys/class/net/lanparty0/mtu)

# The same peers again, in a private room.
lp_stop c1
lp_stop gateway
LP_PRIVATE=1
lp_start_gateway || { echo "bench: private gateway did not start" >&2; exit 1; }
lp_wait_for 20 "private gateway admitted" lp_log_has gateway admitted || exit 1
lp_start_client c1
lp_wait_for 20 "private c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; exit 1; }
lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease in the private room" >&2; exit 1; }
tunnel_iperf priv_up >"$LP_TMP/priv_up"
tunnel_iperf priv_down -R >"$LP_TMP/priv_down"
priv_up=$(head -1 "$LP_TMP/priv_up"); priv_down=$(head -1 "$LP_TMP/priv_down")
priv_rtt=$(rtt c1 10.77.0.1)
priv_mtu=$(ns c1 cat /sys/class/net/lanparty0/mtu)

base_up=$(iperf gw 198.18.0.2 c1)
base_down=$(iperf gw 198.18.0.2 c1 -R)
base_rtt=$(rtt c1 198.18.0.2)
tun_up=$(head -1 "$LP_TMP/up"); tun_down=$(head -1 "$LP_TMP/down")

printf '\n%-34s %12s %12s %8s\n' "path" "tunnel" "bare veth" "ratio"
row() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"; }
row "TCP client -> LAN (Mbit/s)" "$tun_up" "$base_up"
row "TCP LAN -> client (Mbit/s)" "$tun_down" "$base_down"
row "ping RTT (ms)" "$tun_rtt" "$base_rtt"
printf '%-34s %12s\n' "added RTT (ms)" "$(awk -v a="$tun_rtt" -v b="$base_rtt" 'BEGIN { printf "%.3f", a - b }')"
printf '%-34s %12s   (6 plain UDP forwarders in a chain: the wake-up floor)\n' \
	"floor for 6 process hops (ms)" "$floor"
printf '\n%-34s %12s %12s %8s\n' "path" "private" "open" "ratio"
row "TCP client -> LAN (Mbit/s)" "$priv_up" "$tun_up"
row "TCP LAN -> client (Mbit/s)" "$priv_down" "$tun_down"
row "ping RTT (ms)" "$priv_rtt" "$tun_rtt"
printf 'room MTU %s open, %s private; iperf3 %s s per direction; 2 cores shared by every process\n' \
	"$open_mtu" "$priv_mtu" "$secs"
printf 'CPU per frame, open room, TCP up:      %s\n' "$cpf_up"
printf 'CPU per frame, open room, TCP down:    %s\n' "$cpf_down"
printf 'CPU per frame, private room, TCP up:   %s\n' "$cpf_priv_up"
printf 'CPU per frame, private room, TCP down: %s\n' "$cpf_priv_down"
printf 'loadavg at start %s, at end %s\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
