# Shared topology for the netns suite, the demo and the benchmark.
#
#   [lan]  10.77.0.1/24 lan0 + dnsmasq (DHCP .100-.199) + iperf3 server
#     |  veth (MTU 9000: a LAN that carries jumbo frames)
#   [gw]   lanport (no IP) <- lanparty-gateway
#          wan0 198.18.0.2 --+
#   [relay] br-inet 198.18.0.1  <- lanparty-relay :4433
#   [c1]   wan0 198.18.0.3 --+   lanparty0 (TAP) <- lanparty-client, udhcpc
#   [c2]   wan0 198.18.0.4 --+   lanparty0 (TAP) <- lanparty-client, udhcpc
#
# 198.18.0.0/15 is the benchmarking range (RFC 2544), 10.77.0.0/24 the LAN.
# Every name this file creates starts with $LP_NS (unique per run), and
# lp_topology_down removes exactly those namespaces and the processes it
# started, by PID.

: "${LP_BUILD:=build}"
LP_NS=${LP_NS:-lp$$}
LP_TMP=${LP_TMP:-$(mktemp -d /tmp/lanparty-netns.XXXXXX)}
# The peers drop to "nobody" and re-read the pinned certificate after a relay
# restart, so the directory must be searchable by others.
chmod 755 "$LP_TMP"
LP_PIDS=()
LP_ROOM=LAN1
LP_RELAY_ADDR=198.18.0.1:4433

ns() { ip netns exec "$LP_NS-$1" "${@:2}"; }

lp_veth() { # lp_veth NS_A IF_A NS_B IF_B
	ip link add "$LP_NS-t1" type veth peer name "$LP_NS-t2"
	ip link set "$LP_NS-t1" netns "$LP_NS-$1"
	ip link set "$LP_NS-t2" netns "$LP_NS-$3"
	ns "$1" ip link set "$LP_NS-t1" name "$2"
	ns "$3" ip link set "$LP_NS-t2" name "$4"
}

lp_topology_up() {
	local n
	for n in lan gw relay c1 c2; do
		ip netns add "$LP_NS-$n"
		ns "$n" ip link set lo up
	done
	lp_veth lan lan0 gw lanport
	ns lan ip link set lan0 mtu 9000 up
	ns gw ip link set lanport mtu 9000 up
	ns lan ip addr add 10.77.0.1/24 dev lan0

	ns relay ip link add br-inet type bridge
	ns relay ip addr add 198.18.0.1/24 dev br-inet
	ns relay ip link set br-inet up
	local i=2
	for n in gw c1 c2; do
		lp_veth relay "p-$n" "$n" wan0
		ns relay ip link set "p-$n" master br-inet up
		ns "$n" ip addr add "198.18.0.$i/24" dev wan0
		ns "$n" ip link set wan0 up
		i=$((i + 1))
	done
	ns lan dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 \
		--interface=lan0 --bind-interfaces --dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,10m \
		--dhcp-leasefile="$LP_TMP/dnsmasq.leases" --pid-file="$LP_TMP/dnsmasq.pid" \
		--log-dhcp --log-facility="$LP_TMP/dnsmasq.log" ${LP_DNSMASQ_ARGS:-} &
	LP_PIDS+=($!)
}

# Optional: an impaired access link for c1 (bench/impaired.sh,
# tests/netns/impaired.sh). lp_impair_up moves c1's bridge port behind
# tools/impair, in the relay namespace:
#
#   [c1] wan0 --veth-- p-c1 <- impair -> imp-c1 --veth-- imp-br (br-inet)
#
# "a2b" is c1's upload, "b2a" its download. The veths that send into the
# tool (c1's wan0 and imp-br) do their checksums and segmentation in
# software, so each frame the tool sees is one wire packet: loss and the
# rate cap act per packet, as on a real link.
# lp_impair_up [IMPAIR ARGS...]; lp_impair_set [IMPAIR ARGS...] restarts the
# tool with new settings; lp_impair_down puts p-c1 back on the bridge.
lp_impair_up() {
	local dev
	ns relay ip link set p-c1 nomaster
	ns relay ip link add imp-c1 type veth peer name imp-br
	ns relay ip link set imp-br master br-inet
	for dev in p-c1 imp-c1 imp-br; do
		ns relay sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		ns relay ip link set "$dev" up
	done
	ns c1 ethtool -K wan0 tx off tso off gso off >/dev/null 2>&1
	ns relay ethtool -K imp-br tx off tso off gso off >/dev/null 2>&1
	ns relay ethtool -K p-c1 gro off >/dev/null 2>&1
	ns relay ethtool -K imp-c1 gro off >/dev/null 2>&1
	lp_impair_set "$@"
}

lp_impair_set() {
	lp_stop impair
	lp_start impair relay "${LP_IMPAIR_BIN:-$LP_BUILD/tools/impair/impair}" --stats "$LP_TMP/impair.stats" \
		"$@" p-c1 imp-c1
	lp_wait_for 5 "impair up" lp_log_has impair "frames of"
}

# lp_impair_stats DIR KEY: one counter of the running tool (DIR a2b or b2a).
lp_impair_stats() {
	kill -USR1 "$(lp_pid impair)" 2>/dev/null || return 1
	sleep 0.2
	awk -v d="$1" -v k="$2" '$2 == d { for (i = 4; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == k) print kv[2] } }' "$LP_TMP/impair.stats"
}

lp_impair_down() {
	lp_stop impair
	ns relay ip link del imp-c1 2>/dev/null || true
	ns relay ip link set p-c1 master br-inet
	ns c1 ethtool -K wan0 tx on tso on gso on >/dev/null 2>&1
	# The bridge relearns c1's port with its next frame: send one.
	ns c1 ping -c 1 -W 1 198.18.0.1 >/dev/null 2>&1 || true
}

# lp_start NAME NS COMMAND...: runs COMMAND in the namespace, output to $LP_TMP/NAME.log.
lp_start() {
	local name=$1 n=$2
	shift 2
	ip netns exec "$LP_NS-$n" "$@" >"$LP_TMP/$name.log" 2>&1 &
	eval "LP_PID_$name=$!"
	LP_PIDS+=($!)
}

lp_pid() { eval "echo \${LP_PID_$1:-}"; }

# lp_stop NAME: SIGTERM, then waits up to 5 s.
lp_stop() {
	local pid
	pid=$(lp_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "LP_PID_$1="
}

lp_start_relay() {
	lp_start relay relay "$LP_BUILD/src/relay/lanparty-relay" --listen "$LP_RELAY_ADDR" \
		--dev-cert-der-out "$LP_TMP/relay-cert.der" --dev-cert-names relay.test,198.18.0.1 \
		--metrics-listen 127.0.0.1:9477 --state-dir "$LP_TMP/relay-state" ${LP_RELAY_ARGS:-} "$@"
	lp_wait_for 10 "relay up" test -s "$LP_TMP/relay-cert.der"
}

# LP_PRIVATE=1: a private room. The gateway's room file is made (and its
# invite written to $LP_TMP/party.invite) on the first start; the clients
# join with nothing but that invite.
lp_gateway_room_args() {
	if [ "${LP_PRIVATE:-0}" = 1 ]; then
		echo --room-file "$LP_TMP/party.room"
	else
		echo --room "$LP_ROOM"
	fi
}

# The room as the relay's metrics label it: the code, or in a private room
# "~" and 8 characters of its id (read from the gateway's log).
lp_room_label() {
	if [ "${LP_PRIVATE:-0}" = 1 ]; then
		grep -o 'room ~[A-Za-z0-9_-]*' "$LP_TMP/gateway.log" | head -1 | cut -d' ' -f2
	else
		echo "$LP_ROOM"
	fi
}

lp_start_gateway() {
	# shellcheck disable=SC2046
	if [ "${LP_PRIVATE:-0}" = 1 ] && [ ! -s "$LP_TMP/party.invite" ]; then
		"$LP_BUILD/src/gateway/lanparty-gateway" --relay "$LP_RELAY_ADDR" \
			--server-name relay.test --relay-ca-cert "$LP_TMP/relay-cert.der" \
			$(lp_gateway_room_args) --print-invite >"$LP_TMP/party.invite" \
			2>"$LP_TMP/print-invite.log" || return 1
	fi
	# shellcheck disable=SC2046
	lp_start gateway gw "$LP_BUILD/src/gateway/lanparty-gateway" --relay "$LP_RELAY_ADDR" \
		--server-name relay.test --relay-ca-cert "$LP_TMP/relay-cert.der" \
		$(lp_gateway_room_args) --iface lanport --status-socket "$LP_TMP/gateway/status.sock" \
		${LP_GATEWAY_ARGS:-}
}

lp_start_client() { # lp_start_client c1
	local room=(--relay "$LP_RELAY_ADDR" --server-name relay.test
		--relay-ca-cert "$LP_TMP/relay-cert.der" --room "$LP_ROOM")
	# --relay names the invite's relay by the address this test uses.
	[ "${LP_PRIVATE:-0}" = 1 ] && room=(--invite-file "$LP_TMP/party.invite" --relay "$LP_RELAY_ADDR")
	lp_start "$1" "$1" "$LP_BUILD/src/client/lanparty-client" "${room[@]}" \
		--tap lanparty0 --identity "$LP_TMP/$1-identity.json" \
		--status-socket "$LP_TMP/$1/status.sock" ${LP_CLIENT_ARGS:-}
}

# lp_wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s.
lp_wait_for() {
	local secs=$1 what=$2
	shift 2
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out after ${secs}s waiting for: $what" >&2
	return 1
}

lp_log_has() { grep -q -- "$2" "$LP_TMP/$1.log"; }

# lp_dhcp c1: runs udhcpc on the TAP, prints the leased address.
lp_dhcp() {
	ns "$1" busybox udhcpc -i lanparty0 -s "$LP_SRC/tests/netns/udhcpc-script.sh" \
		-q -n -t 8 -T 1 -A 1 >"$LP_TMP/$1-dhcp.log" 2>&1 || return 1
	ns "$1" ip -4 -o addr show dev lanparty0 | awk '{print $4}' | cut -d/ -f1
}

lp_topology_down() {
	local pid n name
	for name in impair c1 c2 gateway relay; do
		lp_stop "$name"
	done
	for pid in "${LP_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${LP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for n in lan gw relay c1 c2; do
		ip netns pids "$LP_NS-$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$LP_NS-$n" 2>/dev/null || true
	done
	ip link del "$LP_NS-t1" 2>/dev/null || true
}

# lp_suite NAME: makes this script a test suite: passed/failed counters,
# `check NAME COMMAND...` for one case, and an EXIT trap that tears the
# topology down and keeps the logs only when a case failed.
lp_suite() {
	LP_SUITE=$1
	passed=0
	failed=0
	trap lp_suite_cleanup EXIT
}
lp_suite_cleanup() {
	lp_topology_down
	if [ "$failed" -gt 0 ]; then
		echo "$LP_SUITE: logs kept in $LP_TMP"
	else
		rm -rf "$LP_TMP"
	fi
}
# check NAME COMMAND...: one test case.
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
