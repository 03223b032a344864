#!/usr/bin/env bash
# Where a round trip through the tunnel goes at the floor (idle path,
# topology of tests/netns/lib.sh without the impairment tool), next to n2n
# on the same kind of path and to the wake-up floor, in one run:
#
#   [lan]   lan0 10.77.0.1 (softlan's LAN)     lan1 10.78.0.1 (n2n's LAN)
#             | veth                              | veth
#   [gw]    lanport <- lanparty-gateway        lanport2 + n2n0 in br-n2n <- edge
#           wan0 198.18.0.2 --+
#   [relay] br-inet 198.18.0.1 <- lanparty-relay :4433, supernode :7654
#           p-c2 198.19.0.1 (routed, no forwarding: n2n must go through
#   [c1]    wan0 198.18.0.3 --+  lanparty0 (TAP) <- lanparty-client    the supernode)
#   [c2]    wan0 198.19.0.2      n2n0 (TAP) 10.78.0.2 <- edge
#
#   - ping RTT (median and p90) through softlan (c1 -> 10.77.0.1), through
#     n2n (Debian's n2n 1.3: edge -> supernode -> edge, c2 -> 10.78.0.1),
#     over the bare veth path (c1 -> gw wan0), and through six plain UDP
#     forwarders (bench/wakeup_chain, on the LAN namespace's own loopback:
#     the wake-up floor of six sleeping processes), at 5 and 50 pings/s.
#     They are interleaved in ROUNDS rounds and each figure is the median of
#     all its pings, so load from elsewhere on the machine hits them alike;
#     loadavg is printed per round.
#   - per ping, for each daemon at 5 pings/s: system calls by name (perf stat
#     on the syscalls tracepoints, an idle window of the same length
#     subtracted) and the UDP packets on c1's and c2's links, so extra
#     wake-ups, timers and ACK packets show up as counts.
#
# Usage: bench/floor.sh [BUILD_DIR] [PINGS] [ROUNDS]   (root; perf, n2n)
#   PINGS per round at 5/s (default 100); at 50/s five times as many.
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
count=${2:-100}
rounds=${3:-2}
. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
trap 'lp_topology_down; rm -rf "$LP_TMP"' EXIT
have_n2n=1
command -v edge >/dev/null && command -v supernode >/dev/null || have_n2n=0

echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
lp_topology_up
lp_start_relay --rate-total-mbit 0 --rate-gateway-mbit 0 --rate-gateway-broadcast 0 --rate-room-mbit 0 # raw throughput: uncapped
lp_start_gateway
lp_start_client c1
lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; exit 1; }
lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted || exit 1
lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease" >&2; exit 1; }
ns c1 ping -c 5 -i 0.05 -q 10.77.0.1 >/dev/null # ARP and the CAM learned

# n2n: its own LAN port and a routed access link for c2, so the relay
# namespace (no IP forwarding) is the only way between the edges.
sn_listening() { ns relay ss -lun | grep -q ':7654 '; }
n2n_up() {
	lp_veth lan lan1 gw lanport2
	ns lan ip addr add 10.78.0.1/24 dev lan1
	ns lan ip link set lan1 up
	ns gw ip link add br-n2n type bridge
	ns gw ip link set lanport2 master br-n2n
	ns gw ip link set lanport2 up
	ns gw ip link set br-n2n up
	ns relay sysctl -qw net.ipv4.ip_forward=0
	ns relay ip link set p-c2 nomaster
	ns relay ip addr add 198.19.0.1/24 dev p-c2
	ns c2 ip addr flush dev wan0
	ns c2 ip addr add 198.19.0.2/24 dev wan0
	ns c2 ip route add 198.18.0.0/24 via 198.19.0.1
	ns gw ip route add 198.19.0.0/24 via 198.18.0.1
	lp_start supernode relay supernode -l 7654
	# An edge registers once at start and then only every minute: the
	# supernode must be listening first.
	lp_wait_for 10 "supernode up" sn_listening || return 1
	lp_start edge_gw gw edge -d n2n0 -a 0.0.0.0 -s 255.255.255.0 -c floor -k floorkey \
		-l 198.18.0.1:7654 -p 7655 -r -m 02:00:4e:32:00:01
	lp_start edge_c2 c2 edge -d n2n0 -a 10.78.0.2 -s 255.255.255.0 -c floor -k floorkey \
		-l 198.19.0.1:7654 -p 7655 -r -m 02:00:4e:32:00:02
	lp_wait_for 10 "n2n0 in gw" ns gw ip link show n2n0 || return 1
	ns gw ip addr flush dev n2n0
	ns gw ip link set n2n0 master br-n2n
	ns gw ip link set n2n0 up
	lp_wait_for 60 "n2n ping" ns c2 ping -c 1 -W 1 10.78.0.1
}
if [ "$have_n2n" = 1 ] && ! n2n_up; then
	echo "bench: n2n did not come up; measuring without it" >&2
	have_n2n=0
fi
[ "$have_n2n" = 1 ] || echo "bench: no n2n (apt-get install n2n): its column stays empty" >&2

# samples FILE NS ADDR N INTERVAL: appends each RTT in ms
samples() { ns "$2" ping -n -c "$4" -i "$5" "$3" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' >>"$1"; }
# stat FILE: "median p90 n" of the samples
stat() {
	sort -n "$1" 2>/dev/null | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - 0"; exit }
		p = int(NR * 0.9); if (p < 1) p = 1
		printf "%.3f %.3f %d\n", v[int((NR + 1) / 2)], v[p], NR }'
}

measure() { # measure RATE N: one interleaved set of rounds at RATE pings/s
	local rate=$1 n=$2 ival r
	ival=$(awk -v r="$rate" 'BEGIN { print 1 / r }')
	for r in $(seq "$rounds"); do
		samples "$LP_TMP/sl-$rate" c1 10.77.0.1 "$n" "$ival"
		[ "$have_n2n" = 1 ] && samples "$LP_TMP/n2n-$rate" c2 10.78.0.1 "$n" "$ival"
		ns lan "$LP_BUILD/bench/wakeup_chain" 6 "$n" "$(awk -v i="$ival" 'BEGIN { print i * 1e6 }')" \
			"$LP_TMP/wc-one" >/dev/null && cat "$LP_TMP/wc-one" >>"$LP_TMP/wc-$rate"
		samples "$LP_TMP/bare-$rate" c1 198.18.0.2 "$((n / 4 > 10 ? n / 4 : 10))" "$ival"
		echo "  $rate/s round $r of $rounds done, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
	done
}

report() { # report RATE
	local rate=$1 sl n2 wc bare added
	sl=($(stat "$LP_TMP/sl-$rate"))
	n2=($(stat "$LP_TMP/n2n-$rate"))
	wc=($(stat "$LP_TMP/wc-$rate"))
	bare=($(stat "$LP_TMP/bare-$rate"))
	added=$(awk -v a="${sl[0]}" -v b="${bare[0]}" 'BEGIN { printf "%.3f", a - b }')
	printf '\n%-44s %8s %8s %6s\n' "at $rate pings/s (medians of all rounds)" "p50 ms" "p90 ms" "pings"
	printf '%-44s %8s %8s %6s\n' "softlan RTT (c1 -> LAN host)" "${sl[@]}" \
		"n2n RTT (c2 -> its LAN host, via supernode)" "${n2[@]}" \
		"bare veth RTT (c1 -> gw wan0)" "${bare[@]}" \
		"6 plain UDP forwarders (wakeup_chain)" "${wc[@]}"
	printf '%-44s %8s\n' "softlan added RTT (softlan - bare)" "$added"
	printf '%-44s %8s   (target <= 1.20)\n' "softlan added / wakeup_chain" \
		"$(awk -v a="$added" -v f="${wc[0]}" 'BEGIN { printf "%.2f", a / f }')"
	[ "${n2[2]}" -gt 0 ] && printf '%-44s %8s   (target <= 1.00)\n' "softlan / n2n RTT" \
		"$(awk -v a="${sl[0]}" -v f="${n2[0]}" 'BEGIN { printf "%.2f", a / f }')"
	printf '%-44s %8s\n' "wakeup_chain / n2n RTT" \
		"$(awk -v a="${wc[0]}" -v f="${n2[0]:-0}" 'BEGIN { if (f > 0) printf "%.2f", a / f; else print "-" }')"
}

echo "interleaved: softlan, n2n, wakeup_chain, bare; $rounds rounds of $count pings at 5/s, $((count * 5)) at 50/s"
measure 5 "$count"
measure 50 "$((count * 5))"
echo "loadavg after the pings: $(cut -d' ' -f1-3 /proc/loadavg)"
report 5
report 50

# ---- where it goes: syscalls and packets per ping at 5/s -------------------
secs=$(awk -v n="$count" 'BEGIN { printf "%.1f", n * 0.2 }')
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
udp_pkts() { ns "$1" awk '/wan0/ {print $3 + $11}' /proc/net/dev; }
pkts_per_ping() { # pkts_per_ping NS ADDR
	local before after
	before=$(udp_pkts "$1")
	ns "$1" ping -c "$count" -i 0.2 -q "$2" >/dev/null
	after=$(udp_pkts "$1")
	awk -v t="$((after - before))" -v n="$count" 'BEGIN { printf "%.2f", t / n }'
}
counts "$LP_TMP/idle.csv"
counts "$LP_TMP/ping.csv" &
cpid=$!
sleep 0.1
sl_pkts=$(pkts_per_ping c1 10.77.0.1)
wait $cpid
echo
printf '%-44s %8s\n' "packets per ping on c1's link (softlan)" "$sl_pkts (rx+tx; 2 = no ACK-only packets)"
[ "$have_n2n" = 1 ] && printf '%-44s %8s\n' "packets per ping on c2's link (n2n)" \
	"$(pkts_per_ping c2 10.78.0.1)"
echo
echo "per ping at 5/s (during the pings minus the same time idle): system calls, and CPU time in us:"
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
