#!/usr/bin/env bash
# Where a round trip through the tunnel goes at the floor (5 pings/s, idle
# path, topology of tests/netns/lib.sh without the impairment tool):
#
#   - ping RTT through the tunnel, over the bare veth path, and through six
#     plain UDP forwarders at the same rate (bench/wakeup_chain: the wake-up
#     floor of six sleeping processes);
#   - per ping, for each daemon: system calls by name (perf stat on the
#     syscalls tracepoints, an idle window of the same length subtracted) and
#     the UDP packets on c1's link, so extra wake-ups, timers and ACK packets
#     show up as counts.
#
# Usage: bench/floor.sh [BUILD_DIR] [PINGS] [INTERVAL_S]   (root, perf)
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
count=${2:-50}
ival=${3:-0.2}
. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
trap 'lp_topology_down; rm -rf "$LP_TMP"' EXIT

echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
lp_topology_up
lp_start_relay --rate-total-mbit 0 --rate-gateway-mbit 0 --rate-gateway-broadcast 0 --rate-room-mbit 0 # raw throughput: uncapped
lp_start_gateway
lp_start_client c1
lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; exit 1; }
lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted || exit 1
lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease" >&2; exit 1; }
ns c1 ping -c 5 -i 0.05 -q 10.77.0.1 >/dev/null # ARP and the CAM learned

avg() { awk -F/ '/^rtt/ {print $5}'; }
secs=$(awk -v n="$count" -v i="$ival" 'BEGIN { printf "%.1f", n * i }')
events=syscalls:sys_enter_epoll_pwait2,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_sendmsg
events=$events,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_readv
events=$events,syscalls:sys_enter_writev,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
events=$events,syscalls:sys_enter_timerfd_settime,syscalls:sys_enter_sendmmsg,task-clock

# counts OUT: perf stat of the three daemons for $secs seconds
counts() {
	perf stat --per-thread -x, -e "$events" \
		-p "$(lp_pid c1),$(lp_pid relay),$(lp_pid gateway)" -o "$1" -- sleep "$secs" \
		>/dev/null 2>&1
}
udp_pkts() { ns c1 awk '/wan0/ {print $3, $11}' /proc/net/dev; }

counts "$LP_TMP/idle.csv"
before=($(udp_pkts))
counts "$LP_TMP/ping.csv" &
cpid=$!
sleep 0.1
tun=$(ns c1 ping -c "$count" -i "$ival" -q 10.77.0.1 | avg)
wait $cpid
after=($(udp_pkts))
bare=$(ns c1 ping -c "$count" -i "$ival" -q 198.18.0.2 | avg)
floor=$("$LP_BUILD/bench/wakeup_chain" 6 "$count" "$(awk -v i="$ival" 'BEGIN { print i * 1e6 }')" |
	awk '{print $1}')

printf '\n%-38s %8s\n' "at $(awk -v i="$ival" 'BEGIN { print 1 / i }') pings/s, $count pings" "ms"
printf '%-38s %8s\n' "tunnel RTT (c1 -> LAN host)" "$tun" "bare veth RTT (c1 -> gw wan0)" "$bare"
added=$(awk -v a="$tun" -v b="$bare" 'BEGIN { printf "%.3f", a - b }')
printf '%-38s %8s\n' "added by the tunnel" "$added" "6 plain UDP forwarders (wake_chain)" "$floor"
printf '%-38s %8s\n' "added / floor" "$(awk -v a="$added" -v f="$floor" 'BEGIN { printf "%.2f", a / f }')"
printf '%-38s %8s\n' "UDP packets per ping on c1's link" \
	"$(awk -v t="$((after[0] - before[0] + after[1] - before[1]))" -v n="$count" \
		'BEGIN { printf "%.2f", t / n }') (rx+tx; 2 = no ACK packets)"

echo
echo "per ping (during the pings minus the same time idle): system calls, and CPU time in us:"
# perf -x, lines: comm-pid,count,unit,event,...
awk -F, -v n="$count" '
	FNR == 1 { f++ }
	/^#/ || NF < 4 { next }
	{ name = $1; sub(/-[0-9]+$/, "", name); ev = $4; sub("syscalls:sys_enter_", "", ev)
	  v = ($2 ~ /^[0-9.]+$/) ? $2 : 0; if (ev == "task-clock") { ev = "cpu_us"; v *= 1000 }
	  if (f == 1) idle[name, ev] += v; else busy[name, ev] += v
	  names[name] = 1; evs[ev] = 1 }
	END {
		printf "%-20s", "daemon"; for (e in evs) printf " %9.9s", e; printf "\n"
		for (p in names) { printf "%-20s", p
			for (e in evs) printf " %9.2f", (busy[p, e] - idle[p, e]) / n; printf "\n" }
	}' "$LP_TMP/idle.csv" "$LP_TMP/ping.csv"
echo
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg); 2 cores shared by every process"
