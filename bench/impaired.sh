#!/usr/bin/env bash
# The tunnel on the paths players have: delay, loss and a rate-capped access
# link with a buffer, made by tools/impair on c1's link (lib.sh,
# lp_impair_up). Every figure has its baseline from the same run:
#
#   tunnel:   c1 (TAP) -> [impaired link] -> relay -> gateway -> LAN host 10.77.0.1
#   plain IP: c1 wan0 198.18.0.3 -> [the same impaired link] -> gw wan0 198.18.0.2
#
# 1. TCP both ways at 20 and 60 ms of round trip (half each way) with 0.5%
#    and 2% loss in each direction: tunnel next to plain IP, the ratio
#    (target >= 0.80), medians of REPEATS interleaved runs.
# 2. DHCP through the tunnel at 60 ms and 2% loss: leases out of 5 tries.
# 3. Ping (50/s) idle and while a saturating TCP transfer runs, through the
#    tunnel and (for reference) plain IP: at 20 ms of round trip with a
#    100 Mbit/s cap each way on c1's link (50 ms of buffer: queue=50ms), and
#    on the zero-delay path without the tool. Targets: p99 under load at most
#    idle + 5 ms (capped link); median under load within 0.5 ms of idle
#    (zero delay). Where packets waited: the tool's FIFO wait (p50/p99).
#
# LP_BENCH_BUILDS="build-a build-b ...": the tunnel's rows once per build
# directory (for example the same tree built with another -DLP_QUIC_CC),
# interleaved in the same run: every switch restarts relay, gateway and
# client from that build; the plain IP rows are measured once. Each row ends
# with the 1-minute load average when it was taken. Those builds need only
# the three daemons (the impairment tool is always BUILD_DIR's).
#
# Usage: bench/impaired.sh [BUILD_DIR] [SECONDS] [REPEATS]   (root)
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
secs=${2:-8}
reps=${3:-3}
only=${LP_BENCH_ONLY:-"loss dhcp bloat zero"}
read -r -a builds <<<"${LP_BENCH_BUILDS:-$LP_BUILD}"
# The impairment tool is the path, not what is compared: always the one in
# BUILD_DIR, so the other builds need only the three daemons.
LP_IMPAIR_BIN=$LP_SRC/$LP_BUILD/tools/impair/impair
[ -x "$LP_IMPAIR_BIN" ] || LP_IMPAIR_BIN=$LP_BUILD/tools/impair/impair
LP_BUILD=${builds[0]}
# The players' TCP: CUBIC is the default of Windows and Linux (this machine's
# namespaces inherit BBR, which shrugs off random loss); LP_BENCH_TCP_CC=bbr
# to compare.
tcp_cc=${LP_BENCH_TCP_CC:-cubic}
. tests/netns/lib.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
# LP_BENCH_KEEP=1 keeps the daemons' logs (and prints where).
trap 'lp_topology_down; if [ -n "${LP_BENCH_KEEP:-}" ]; then echo "logs: $LP_TMP"; else rm -rf "$LP_TMP"; fi' EXIT
want() { [[ " $only " == *" $1 "* ]]; }

echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg); iperf3 TCP congestion control: $tcp_cc"
lp_topology_up
lp_impair_up --seed 1
# Raw throughput: the relay's rate limits off, in every build's relay.
relay_uncapped=(--rate-total-mbit 0 --rate-gateway-mbit 0 --rate-gateway-broadcast 0 --rate-room-mbit 0)
lp_start_relay "${relay_uncapped[@]}"
lp_start_gateway
lp_start_client c1
lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted || { cat "$LP_TMP"/*.log; exit 1; }
lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted || exit 1
lp_dhcp c1 >/dev/null || { echo "bench: no DHCP lease" >&2; exit 1; }

# impair_case ARGS: new settings for the tool, and a fresh tunnel on them. A
# player's connection starts on the path it has; one started on the
# zero-delay path keeps what it learnt there (ngtcp2 never raises min_rtt):
# switched to 20 ms and 100 Mbit/s it stays near 15 Mbit/s, against 65 for
# one started on that path.
impair_case() {
	lp_impair_set "$@"
	lp_stop c1
	lp_start_client c1
	lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted && lp_dhcp c1 >/dev/null ||
		echo "bench: c1 did not come back" >&2
}
# use_build DIR: a fresh tunnel, every daemon from DIR (a no-op with one build,
# where impair_case restarted the client already).
use_build() {
	[ "${#builds[@]}" -gt 1 ] || return 0
	LP_BUILD=$1
	lp_stop c1
	lp_stop gateway
	lp_stop relay
	# The relay writes its certificate again: wait for the new one.
	rm -f "$LP_TMP/relay-cert.der"
	lp_start_relay "${relay_uncapped[@]}"
	lp_start_gateway
	lp_wait_for 20 "gateway admitted" lp_log_has gateway admitted
	# A lost handshake packet at 2% loss can cost the client its first
	# attempt: one more try.
	for _ in 1 2; do
		lp_start_client c1
		lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted && lp_dhcp c1 >/dev/null && return 0
		lp_stop c1
	done
	echo "bench: $1's tunnel did not come up" >&2
}
load1() { cut -d' ' -f1 /proc/loadavg; }
tag() { [ "${#builds[@]}" -gt 1 ] && echo " [$1]"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# iperf NS_SERVER ADDR [-R] [SECONDS]: c1's iperf3 client, receiver Mbit/s
iperf() {
	local t=${3:-$secs}
	ns "$1" timeout $((t + 20)) iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$! out
	sleep 0.3
	out=$(ns c1 iperf3 -c "$2" -t "$t" -f m -C "$tcp_cc" ${4:-} 2>/dev/null | awk '/receiver/ {print $7}')
	wait $spid 2>/dev/null
	echo "${out:-0}"
}
# pings NS ADDR COUNT: "p50 p99" in ms at 50 pings/s (lost pings left out)
pings() {
	ns "$1" ping -i 0.02 -c "$3" -W 1 "$2" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\).*/\1/p' | sort -g |
		awk '{ a[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
			printf "%.2f %.2f\n", a[int(NR * 0.5 + 0.5)], a[int(NR * 0.99 + 0.5)] }'
}
# loaded NS_SERVER ADDR DIR PING_ADDR: "p50 p99 Mbit/s" while iperf3 runs
loaded() {
	local f="$LP_TMP/loaded.out" p
	(iperf "$1" "$2" "$secs" "$3" >"$f") &
	local ipid=$!
	sleep 2
	p=$(pings c1 "$4" $(((secs - 3) * 50)))
	wait $ipid
	echo "$p $(cat "$f")"
}

# "loss1": only the 20 ms / 0.5% row
if want loss || want loss1; then
	echo
	echo "== TCP through the tunnel vs plain IP on the same impaired link (Mbit/s, median of $reps x ${secs}s) =="
	printf '%-22s %9s %9s %6s   %9s %9s %6s\n' "RTT / loss each way" "tun up" "plain up" "ratio" \
		"tun down" "plain dn" "ratio"
	rtts="20 60" losses="0.5 2"
	want loss || rtts=20 losses=0.5
	for rtt in $rtts; do
		for loss in $losses; do
			impair_case --seed $((rtt * 10)) --both "delay=$((rtt / 2))ms,loss=${loss}%"
			pu=() pd=() tu=() td=() loads=()
			for _ in $(seq "$reps"); do
				pu+=("$(iperf gw 198.18.0.2)")
				pd+=("$(iperf gw 198.18.0.2 "$secs" -R)")
				for i in "${!builds[@]}"; do
					use_build "${builds[$i]}"
					tu[i]+=" $(iperf lan 10.77.0.1)"
					td[i]+=" $(iperf lan 10.77.0.1 "$secs" -R)"
				done
				loads+=("$(load1)")
			done
			b=$(median "${pu[@]}") d=$(median "${pd[@]}")
			for i in "${!builds[@]}"; do
				# shellcheck disable=SC2086
				a=$(median ${tu[i]}) c=$(median ${td[i]})
				printf '%-22s %9s %9s %6s   %9s %9s %6s  load %s\n' "$rtt ms / $loss %$(tag "${builds[$i]}")" \
					"$a" "$b" "$(ratio "$a" "$b")" "$c" "$d" "$(ratio "$c" "$d")" "$(median "${loads[@]}")"
				echo "   runs: up${tu[i]} | ${pu[*]}; down${td[i]} | ${pd[*]}"
			done
		done
	done
fi

if want dhcp; then
	echo
	echo "== DHCP through the tunnel at 60 ms and 2% loss each way =="
	lp_impair_set --seed 602 --both "delay=30ms,loss=2%"
	ok=0 t0=$SECONDS
	for i in 1 2 3 4 5; do
		ns c1 ip addr flush dev lanparty0
		lp_dhcp c1 >/dev/null && ok=$((ok + 1))
	done
	echo "leases: $ok of 5 tries ($((SECONDS - t0)) s for all five)"
	lp_dhcp c1 >/dev/null || true
fi

bloat_rows() { # the rows of one path setting: the tunnel's per build, then plain IP
	local idle_p b
	for b in "${builds[@]}"; do
		use_build "$b"
		printf '%-34s %7s %7s %9s  load %s\n' "tunnel$(tag "$b"), idle" $(pings c1 10.77.0.1 250) "" "$(load1)"
		loaded_row "tunnel$(tag "$b"), TCP download running" b2a lan 10.77.0.1 -R 10.77.0.1
		loaded_row "tunnel$(tag "$b"), TCP upload running" a2b lan 10.77.0.1 "" 10.77.0.1
	done
	idle_p=$(pings c1 198.18.0.2 250)
	printf '%-34s %7s %7s %9s  load %s\n' "plain IP, idle" $idle_p "" "$(load1)"
	loaded_row "plain IP, TCP download running" b2a gw 198.18.0.2 -R 198.18.0.2
	loaded_row "plain IP, TCP upload running" a2b gw 198.18.0.2 "" 198.18.0.2
}
# loaded_row LABEL DIR NS_SERVER ADDR IPERF_DIR PING_ADDR: one row, and where
# the tool's FIFO made packets of DIR wait (the tool restarts, so each row
# counts alone). Not in a subshell: lp_impair_set keeps the tool's PID here.
loaded_row() {
	local l wait=""
	l=($(loaded "$3" "$4" "$5" "$6"))
	if [ -n "$(lp_pid impair)" ]; then
		wait="link FIFO wait p50 $(lp_impair_stats "$2" wait_p50_us) us, p99"
		wait="$wait $(lp_impair_stats "$2" wait_p99_us) us, drops $(lp_impair_stats "$2" queue_drops)"
		lp_impair_set "${bloat_args[@]}"
	fi
	printf '%-34s %7s %7s %9s  load %s %s\n' "$1" "${l[@]}" "$(load1)" "$wait"
}

if want bloat; then
	echo
	echo "== ping (ms, 50/s) idle and under load: 20 ms RTT, 100 Mbit/s each way, 50 ms buffer =="
	bloat_args=(--seed 7 --both "delay=10ms,rate=100mbit,queue=50ms")
	impair_case "${bloat_args[@]}"
	printf '%-34s %7s %7s %9s\n' "" "p50" "p99" "Mbit/s"
	bloat_rows
fi

impair_case_zero() { # a fresh tunnel on the zero-delay path
	lp_stop c1
	lp_start_client c1
	lp_wait_for 20 "c1 admitted" lp_log_has c1 admitted && lp_dhcp c1 >/dev/null ||
		echo "bench: c1 did not come back" >&2
}

if want zero; then
	echo
	echo "== ping (ms, 50/s) idle and under load: the zero-delay path (no tool) =="
	lp_impair_down
	impair_case_zero
	printf '%-34s %7s %7s %9s\n' "" "p50" "p99" "Mbit/s"
	bloat_rows
fi
echo
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg); 2 cores shared by every process"
