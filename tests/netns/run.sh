#!/usr/bin/env bash
# The whole LAN party in network namespaces, with real programs: dnsmasq,
# busybox udhcpc, iperf3, ping, the kernel's veth and TAP. Topology: lib.sh.
# Needs root. Usage: tests/netns/run.sh [BUILD_DIR]
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
. tests/netns/lib.sh
. tests/netns/status.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "netns: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi
for exe in src/relay/lanparty-relay src/gateway/lanparty-gateway src/client/lanparty-client \
	tests/netns/udp_probe tests/netns/raw_send; do
	[ -x "$LP_BUILD/$exe" ] || { echo "netns: $LP_BUILD/$exe is not built" >&2; exit 1; }
done

lp_suite netns

probe() { "$LP_BUILD/tests/netns/udp_probe" "$@"; }
# print_invite ROOM_FILE OUT: makes the room file when missing, writes its invite to OUT.
print_invite() {
	"$LP_BUILD/src/gateway/lanparty-gateway" --relay "$LP_RELAY_ADDR" --server-name relay.test \
		--relay-ca-cert "$LP_TMP/relay-cert.der" --room-file "$1" --print-invite \
		>"$2" 2>>"$LP_TMP/print-invite.log" && [ -s "$2" ]
}

# The main run is a private room (the gateway's --room-file, the players'
# --invite-file), and so is ipv6.sh's (a player's RA is dropped by the
# receivers there); LP_PRIVATE=0 runs both in an open room. filters.sh runs
# an open room (the relay's duplicate_mac), blind.sh one of each.
LP_PRIVATE=${LP_PRIVATE:-1}
echo "netns: the main run is in $([ "$LP_PRIVATE" = 1 ] && echo "a private" || echo "an open") room"

lp_topology_up
lp_start_relay
if [ "$LP_PRIVATE" = 1 ]; then
	# The room file and its invite first: an impostor holding nothing but the
	# invite makes a room file of its own with the room's secret and starts a
	# gateway before the host's does.
	print_invite "$LP_TMP/party.room" "$LP_TMP/party.invite"
	imp_secret=$(sed -n 's/.*#//p' "$LP_TMP/party.invite")
	imp_seed=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
	(umask 077 && printf 'version=1\nsecret=%s\nhost_seed=%s\n' "$imp_secret" "$imp_seed" \
		>"$LP_TMP/impostor.room")
	lp_start impostor gw "$LP_BUILD/src/gateway/lanparty-gateway" --relay "$LP_RELAY_ADDR" \
		--server-name relay.test --relay-ca-cert "$LP_TMP/relay-cert.der" \
		--room-file "$LP_TMP/impostor.room" --iface lanport
	lp_wait_for 15 "impostor admitted" lp_log_has impostor "admitted" || true
fi
lp_start_gateway
lp_wait_for 15 "gateway admitted" lp_log_has gateway "admitted" || true
LP_CLIENT_ARGS="--status-interval 2" lp_start_client c1 # its drop counters, seen soon
lp_start_client c2
lp_wait_for 15 "client c1 admitted" lp_log_has c1 "admitted" || true
lp_wait_for 15 "client c2 admitted" lp_log_has c2 "admitted" || true

# line_of NAME PATTERN: the line number of the first line of NAME's log with PATTERN.
line_of() { grep -n -m1 -- "$2" "$LP_TMP/$1.log" | cut -d: -f1; }
case_privileges() { # $1 peer, $2 the CapEff/CapPrm it may keep (hex, as /proc shows it)
	local pid uids eff prm drop conn
	pid=$(lp_pid "$1")
	[ -n "$pid" ] && [ -r "/proc/$pid/status" ] || return 1
	uids=$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' "/proc/$pid/status")
	eff=$(awk '$1 == "CapEff:" {print $2}' "/proc/$pid/status")
	prm=$(awk '$1 == "CapPrm:" {print $2}' "/proc/$pid/status")
	echo "   $1 (pid $pid): Uid $uids, CapEff $eff, CapPrm $prm"
	# no root uid left (real, effective, saved, fs), no capability beyond the one kept
	[[ " $uids " != *" 0 "* ]] && [ "$eff" = "$2" ] && [ "$prm" = "$2" ] || return 1
	# and it was so before the first network byte: the runner reports "connecting
	# to relay" before it opens its socket, and the drop is logged when it is done
	drop=$(line_of "$1" "dropped privileges: running as uid")
	conn=$(line_of "$1" "connecting to relay")
	echo "   $1 log: privileges dropped at line ${drop:-none}, first connect at line ${conn:-none}"
	[ -n "$drop" ] && [ -n "$conn" ] && [ "$drop" -lt "$conn" ]
}
check "the client runs unprivileged (CAP_NET_ADMIN only) from before its first network byte" \
	case_privileges c1 0000000000001000
check "the gateway runs unprivileged (no capability) from before its first network byte" \
	case_privileges gateway 0000000000000000

case_tap_mtu() { # the TAP was created down with MTU 1280; the welcome brings the room's
	local mtu link
	mtu=$(sed -n 's/.*admitted to room [^ ]* as peer [0-9]*, MTU \([0-9]*\).*/\1/p' \
		"$LP_TMP/c1.log" | head -1)
	link=$(ns c1 ip -o link show lanparty0)
	echo "   room MTU ${mtu:-?}; TAP: $(grep -o 'mtu [0-9]*' <<<"$link"), $(grep -o 'state [A-Z]*' <<<"$link" || echo 'state ?')"
	[ -n "$mtu" ] && [ "$mtu" != 1280 ] && grep -q "mtu $mtu " <<<"$link" &&
		grep -q "<[^>]*\bUP\b" <<<"$link" && line_of c1 "TAP lanparty0 created" >/dev/null &&
		[ "$(line_of c1 "TAP lanparty0 created")" -lt "$(line_of c1 "connecting to relay")" ]
}
check "the client's TAP exists before connecting, and takes the room MTU and comes up once admitted" \
	case_tap_mtu

c1_ip=""
c2_ip=""
case_dhcp() {
	c1_ip=$(lp_dhcp c1) && c2_ip=$(lp_dhcp c2) || return 1
	echo "   c1 got $c1_ip, c2 got $c2_ip from the LAN's dnsmasq"
	[[ $c1_ip == 10.77.0.* && $c2_ip == 10.77.0.* && $c1_ip != "$c2_ip" ]]
}
check "each client gets a DHCP lease from the LAN across the bridge" case_dhcp

room_of() { sed -n 's/.*admitted to room \([^ ]*\) as.*/\1/p' "$LP_TMP/$1.log" | head -1; }
case_impostor() { # the impostor came first, with the room's secret and a host key of its own
	local real imp
	real=$(room_of gateway)
	imp=$(room_of impostor)
	echo "   the host's gateway is in room ${real:-?}, the impostor's (first to arrive) in ${imp:-?}"
	[ -n "$real" ] && [ -n "$imp" ] && [ "$real" != "$imp" ] &&
		[ "$(room_of c1)" = "$real" ] && [ "$(room_of c2)" = "$real" ] &&
		! lp_log_has gateway "gateway_exists" && ! lp_log_has gateway "replaced" || return 1
	lp_stop impostor
	# the players never heard of a second gateway: one "LAN gateway" line each
	! lp_log_has c1 "LAN gateway left" && ! lp_log_has c2 "LAN gateway left"
}
[ "$LP_PRIVATE" = 1 ] && check "a player's credentials cannot take the gateway slot, even arriving first" \
	case_impostor

case_damaged_invite() { # the room's invite with another room's secret spliced in
	local other spliced rc=0
	print_invite "$LP_TMP/other.room" "$LP_TMP/other.invite" || return 1
	other=$(sed -n 's/.*#//p' "$LP_TMP/other.invite")
	spliced="$(sed 's/#.*//' "$LP_TMP/party.invite")#$other"
	printf '%s\n' "$spliced" >"$LP_TMP/spliced.invite"
	ns c2 "$LP_BUILD/src/client/lanparty-client" --invite-file "$LP_TMP/spliced.invite" \
		--tap lanparty9 >"$LP_TMP/spliced.log" 2>&1 || rc=$?
	echo "   exit status $rc: $(grep -o 'invite is damaged.*' "$LP_TMP/spliced.log" | head -1)"
	[ $rc -ne 0 ] && grep -q "invite is damaged: room id does not match its secret" \
		"$LP_TMP/spliced.log" && ! grep -q "connecting to relay" "$LP_TMP/spliced.log"
}
[ "$LP_PRIVATE" = 1 ] && check "one room's id with another room's secret is refused before any byte is sent" \
	case_damaged_invite

case_rogue_dhcp() { # c2 runs a DHCP server on its TAP; c1 asks for a lease again
	local rpid ip
	ns c2 dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 --interface=lanparty0 \
		--bind-interfaces --dhcp-range=10.77.0.200,10.77.0.250,255.255.255.0,10m \
		--dhcp-authoritative --dhcp-leasefile="$LP_TMP/rogue.leases" \
		--pid-file="$LP_TMP/rogue.pid" --log-dhcp --log-facility="$LP_TMP/rogue.log" &
	rpid=$!
	LP_PIDS+=($rpid)
	sleep 0.5
	ip=$(lp_dhcp c1)
	lp_wait_for 5 "the rogue's offer" grep -q DHCPOFFER "$LP_TMP/rogue.log"
	kill -TERM $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	echo "   c1 got ${ip:-nothing}; rogue: $(grep -c 'DHCPOFFER' "$LP_TMP/rogue.log") offers made"
	grep -m1 "filtered a frame of room" "$LP_TMP/c1.log" | sed 's/^/   c1: /'
	# the rogue answered, c1 dropped its offers as dhcp_server, the LAN's lease stands
	grep -q DHCPOFFER "$LP_TMP/rogue.log" && [[ $ip == 10.77.0.1[0-9][0-9] ]] &&
		grep -q "filtered a frame of room .*(dhcp_server" "$LP_TMP/c1.log" || return 1
	# ... and counted: c1's status line (every 2 s) shows more drops than before
	lp_wait_for 5 "c1's drops counted" drops_counted c1
	drops_counted c1
}
drops_counted() { # a "traffic: ... drops N" line after the first filtered frame, N above the last before
	awk -v who="$1" -v n="$(line_of "$1" 'filtered a frame of room')" '
		/traffic:/ { if (NR < n) before = $NF; else after = $NF }
		END { printf "   %s: drops %d before the filtered frames, %d after\n", who, before, after > "/dev/stderr"
			exit !(after > before) }' "$LP_TMP/$1.log"
}
[ "$LP_PRIVATE" = 1 ] && check "a player's rogue DHCP OFFER is dropped at the receiving player (dhcp_server)" \
	case_rogue_dhcp

case_ping() {
	ns c1 ping -c 3 -i 0.2 -W 2 10.77.0.1 >/dev/null &&
		ns c2 ping -c 3 -i 0.2 -W 2 10.77.0.1 >/dev/null &&
		ns lan ping -c 3 -i 0.2 -W 2 "$c1_ip" >/dev/null &&
		ns lan ping -c 3 -i 0.2 -W 2 "$c2_ip" >/dev/null &&
		ns c1 ping -c 3 -i 0.2 -W 2 "$c2_ip" >/dev/null
}
check "clients and LAN host ping each other; clients reach each other" case_ping
check "status on a player lists the gateway and the other player, LAN IPs and RTTs" case_status_table
check "status --json parses with jq; the gateway's lists both players' LAN IPs" case_status_json
check "the status socket refuses another user" case_status_other_user

case_broadcast() { # $1 sender ns, $2 its interface, $3 receiver ns, $4 destination
	local tag="discover-$1-$RANDOM"
	ns "$3" "$LP_BUILD/tests/netns/udp_probe" recv 27015 "$tag" 5 >/dev/null &
	local rpid=$!
	sleep 0.3
	ns "$1" "$LP_BUILD/tests/netns/udp_probe" send "$4" 27015 "$tag" 10 "$2"
	wait $rpid
}
check "broadcast discovery 255.255.255.255 LAN -> client" case_broadcast lan lan0 c1 255.255.255.255
check "broadcast discovery 255.255.255.255 client -> LAN" case_broadcast c1 lanparty0 lan 255.255.255.255
check "subnet broadcast 10.77.0.255 LAN -> client" case_broadcast lan lan0 c2 10.77.0.255
check "subnet broadcast 10.77.0.255 client -> LAN" case_broadcast c2 lanparty0 lan 10.77.0.255

case_iperf() { # $1: extra iperf3 args (-R for LAN -> client)
	ns lan iperf3 -s -1 -B 10.77.0.1 >"$LP_TMP/iperf-server.log" 2>&1 &
	local spid=$!
	sleep 0.5
	local out
	out=$(ns c1 iperf3 -c 10.77.0.1 -t 3 -f m $1 2>&1) || { echo "$out"; wait $spid; return 1; }
	wait $spid
	echo "$out" | awk '/receiver/ {print "   " $0}'
	echo "$out" | grep -q receiver
}
ethtool_defaults() { # offloads stay at the kernel's defaults: the LAN host's veth does TSO
	ns lan ethtool -k lan0 | grep -q 'tcp-segmentation-offload: on' &&
		ns gw ethtool -k lanport | grep -q 'tcp-segmentation-offload: on'
}
check "veth offloads are at their defaults (TSO on)" ethtool_defaults
check "iperf3 TCP client -> LAN completes" case_iperf ""
check "iperf3 TCP LAN -> client completes" case_iperf "-R"

gw_logged() { # gw_logged WORD...: one gateway log line holds every WORD
	local pat=$1 w
	shift
	local lines
	lines=$(grep -F -- "$pat" "$LP_TMP/gateway.log") || return 1
	for w in "$@"; do
		lines=$(grep -F -- "$w" <<<"$lines") || return 1
	done
}
case_oversized() {
	ns lan "$LP_BUILD/tests/netns/raw_send" lan0 vlan 42 1518 &&
		ns lan "$LP_BUILD/tests/netns/raw_send" lan0 plain 3000 || return 1
	lp_wait_for 5 "gateway logs the whole tagged frame as dropped" \
		gw_logged "len=1518" "vlan=42" "reason=too_big" &&
		lp_wait_for 5 "gateway logs the whole jumbo frame as dropped" \
			gw_logged "len=3000" "reason=too_big"
}
check "VLAN-tagged and jumbo LAN frames are dropped whole, never truncated" case_oversized

case_gateway_leave() {
	lp_stop gateway
	lp_wait_for 10 "c1 logs the gateway's leave" lp_log_has c1 "LAN gateway left" &&
		lp_wait_for 10 "c2 logs the gateway's leave" lp_log_has c2 "LAN gateway left"
}
check "stopping the gateway makes the clients log its leave" case_gateway_leave

admissions_at_least() { [ "$(grep -c admitted "$LP_TMP/$1.log")" -ge "$2" ]; }
case_relay_restart() {
	lp_start_gateway # a fresh log: its first admission after the restart is line 1
	lp_wait_for 15 "gateway back" admissions_at_least gateway 1 || return 1
	local pin1 pin2
	pin1=$(grep -o 'relay pin: sha256:[A-Za-z0-9_-]*' "$LP_TMP/relay.log" | head -1)
	lp_stop relay
	lp_start_relay
	# every peer reconnects and each logs one more admission: in a private
	# room with nothing but its invite (the relay's --state-dir keeps its key,
	# so the pin in the invite still holds); in an open room the peers re-read
	# the pinned certificate file
	lp_wait_for 40 "c1 readmitted" admissions_at_least c1 2 &&
		lp_wait_for 40 "c2 readmitted" admissions_at_least c2 2 &&
		lp_wait_for 40 "gateway readmitted" admissions_at_least gateway 2 &&
		lp_wait_for 20 "lease still works" ns c1 ping -c 1 -W 1 10.77.0.1 || return 1
	pin2=$(grep -o 'relay pin: sha256:[A-Za-z0-9_-]*' "$LP_TMP/relay.log" | head -1)
	echo "   before the restart ${pin1:-no pin}; after ${pin2:-no pin}"
	[ "$LP_PRIVATE" != 1 ] || { [ -n "$pin1" ] && [ "$pin1" = "$pin2" ]; }
}
check "restarting the relay makes every peer reconnect; the lease keeps working" case_relay_restart

exited() { # exited PID: the process ended (a zombie until waited for, or gone)
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
case_tap_gone() { # a deleted TAP is a dead device: the client says so and exits 1
	local pid rc=0
	pid=$(lp_pid c2)
	[ -n "$pid" ] && ns c2 ip link del lanparty0 || return 1
	lp_wait_for 10 "c2 reports its TAP gone" lp_log_has c2 "lanparty0 stopped working" &&
		lp_wait_for 10 "c2 exits" exited "$pid" || return 1
	wait "$pid" || rc=$?
	eval "LP_PID_c2="
	echo "   c2: $(grep -o 'lanparty0 stopped working.*' "$LP_TMP/c2.log" | head -1); exit status $rc"
	[ $rc -eq 1 ]
}
check "deleting a client's TAP stops that client with exit status 1 (a dead device is fatal)" \
	case_tap_gone

case_cleanup() {
	lp_topology_down
	LP_PIDS=()
	! ip netns list | grep -q "^$LP_NS-" && ! ip link show "$LP_NS-t1" >/dev/null 2>&1 &&
		! pgrep -f "$LP_TMP" >/dev/null
}
check "no namespace, link or process is left behind" case_cleanup

# IPv6 (SLAAC through the tunnel, an IPv6 underlay) and the gateway's LAN-host
# MAC rule, each in a topology of its own.
check "IPv6 cases (tests/netns/ipv6.sh)" env LP_PRIVATE="$LP_PRIVATE" tests/netns/ipv6.sh "$LP_BUILD"
check "LAN-host MAC cases (tests/netns/filters.sh)" env LP_PRIVATE=0 tests/netns/filters.sh "$LP_BUILD"
check "relay blindness, open and private room (tests/netns/blind.sh)" tests/netns/blind.sh "$LP_BUILD"

echo "netns: $passed passed, $failed failed"
[ $failed -eq 0 ]
