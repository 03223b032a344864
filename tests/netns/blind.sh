#!/usr/bin/env bash
# Relay blindness, end to end in network namespaces (the lib.sh topology):
# what the relay process forwards, captured with lanparty-relay --pcap, while
# the LAN host sends a marker to a player and the player sends one back.
#
#   open room:    both markers must be in the capture (the positive control:
#                 it shows the capture and the search can see a marker)
#   private room: both markers must cross just the same, and be in no
#                 captured frame, while the capture holds those frames
#
# The relay also attacks both rooms (--test-tamper 7): one datagram in 7 goes
# out with a payload bit flipped, with a header bit flipped, as it is and
# again. The private room's receivers drop and count the altered copies
# (auth) and the replay (replay); the open room's deliver them all (the
# control: nothing there catches them).
#
# Needs root. Usage: tests/netns/blind.sh [BUILD_DIR]
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC"
LP_BUILD=${1:-build}
LP_NS=lpb$$
. tests/netns/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "netns-blind: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi

lp_suite netns-blind

probe() { "$LP_BUILD/tests/netns/udp_probe" "$@"; }
PLAYER_IP=10.77.0.50 # static on the player's TAP: no DHCP needed to carry a marker

# room_up KIND: relay (capturing to $LP_TMP/KIND.pcap), gateway and player c1.
room_up() {
	LP_RELAY_ARGS="--pcap $LP_TMP/$1.pcap --test-tamper 7" lp_start_relay || return 1
	lp_start_gateway
	lp_wait_for 15 "gateway admitted" lp_log_has gateway "admitted" || return 1
	LP_CLIENT_ARGS="--status-interval 1" lp_start_client c1 # its drop count, seen soon
	lp_wait_for 15 "c1 admitted" lp_log_has c1 "admitted" || return 1
	lp_wait_for 5 "c1's TAP up" ns c1 ip link set lanparty0 up &&
		ns c1 ip addr add "$PLAYER_IP/24" dev lanparty0
}

room_down() { # keeps the logs as KIND-NAME.log
	local n
	lp_stop c1 && lp_stop gateway && lp_stop relay
	for n in c1 gateway relay; do cp "$LP_TMP/$n.log" "$LP_TMP/$1-$n.log"; done
}

# markers KIND: one marker each way; both must arrive. Sets M_DOWN and M_UP.
markers() {
	M_DOWN="lan-to-player-$1-$RANDOM$RANDOM"
	M_UP="player-to-lan-$1-$RANDOM$RANDOM"
	ns c1 "$LP_BUILD/tests/netns/udp_probe" recv 27016 "$M_DOWN" 6 &
	local rpid=$!
	sleep 0.3
	ns lan "$LP_BUILD/tests/netns/udp_probe" send "$PLAYER_IP" 27016 "$M_DOWN" 20 || return 1
	wait $rpid || { echo "   the LAN host's marker did not reach the player"; return 1; }
	ns lan "$LP_BUILD/tests/netns/udp_probe" recv 27017 "$M_UP" 6 &
	rpid=$!
	sleep 0.3
	ns c1 "$LP_BUILD/tests/netns/udp_probe" send 10.77.0.1 27017 "$M_UP" 20 lanparty0 || return 1
	wait $rpid || { echo "   the player's marker did not reach the LAN host"; return 1; }
}

# in_capture KIND MARKER: prints pcap_grep's line; the number of records with MARKER.
in_capture() {
	local line
	line=$("$LP_BUILD/tests/netns/pcap_grep" "$LP_TMP/$1.pcap" "$2") || return 1
	echo "   $1.pcap, ${2%%-[0-9]*}: $line" >&2
	sed 's/.*matches=//' <<<"$line"
}
records() { "$LP_BUILD/tests/netns/pcap_grep" "$LP_TMP/$1.pcap" x | sed 's/records=\([0-9]*\).*/\1/'; }

lp_topology_up

case_open() {
	local down up
	LP_PRIVATE=0
	room_up open && markers open || return 1
	# The relay flushes its capture and closes it on SIGTERM.
	room_down open
	lp_log_has relay "pcap: writing every forwarded frame to $LP_TMP/open.pcap" || return 1
	down=$(in_capture open "$M_DOWN") && up=$(in_capture open "$M_UP") || return 1
	[ "$down" -ge 1 ] && [ "$up" -ge 1 ]
}
check "open room: both markers are in plaintext in what the relay forwards (--pcap)" case_open

case_private() {
	local down up n
	LP_PRIVATE=1
	room_up private && markers private || return 1
	room_down private
	LP_PRIVATE=0
	n=$(records private) || return 1
	down=$(in_capture private "$M_DOWN") && up=$(in_capture private "$M_UP") || return 1
	# The marker frames crossed the relay (and ARP, IPv6 ND): far more than 40 records.
	[ "$n" -ge 40 ] && [ "$down" -eq 0 ] && [ "$up" -eq 0 ]
}
check "private room: the markers cross, and neither is in any frame the relay forwards" \
	case_private

# dropped KIND NAME REASON: NAME's log in room KIND has a datagram dropped for REASON.
dropped() { grep -q "dropped a datagram of room .*: $3 (" "$LP_TMP/$1-$2.log"; }
status_drops() { grep -o 'drops [0-9]*' "$LP_TMP/$1-$2.log" | tail -1 | cut -d' ' -f2; }
# reason_count KIND NAME REASON: the gateway's last status line's count for REASON
reason_count() { grep -o "drops [0-9]* .*" "$LP_TMP/$1-$2.log" | tail -1 | grep -o "$3=[0-9]*" | cut -d= -f2; }
case_tamper() {
	local n
	for n in open private; do
		grep -q "test-tamper: one datagram in 7 goes out" "$LP_TMP/$n-relay.log" || {
			echo "   the relay of the $n room never attacked"
			return 1
		}
	done
	echo "   open room: c1 dropped $(status_drops open c1) datagrams; private room: c1 dropped" \
		"$(status_drops private c1), the gateway $(status_drops private gateway)"
	grep -h -m2 "dropped a datagram of room" "$LP_TMP/private-c1.log" | sed 's/^/   /'
	# the control: in the open room the attack passes unseen
	! grep -q "dropped a datagram of room" "$LP_TMP/open-c1.log" || return 1
	echo "   the private room's gateway counted auth=$(reason_count private gateway auth)" \
		"replay=$(reason_count private gateway replay)"
	# c1's log lines are rate-limited and its status line has the total:
	# three drops per attack
	dropped private c1 auth && [ "$(status_drops private c1)" -ge 3 ] &&
		dropped private gateway replay && dropped private gateway auth &&
		[ "$(reason_count private gateway auth)" -ge 2 ] &&
		[ "$(reason_count private gateway replay)" -ge 1 ]
}
check "the relay's replays and flipped header and payload bits: dropped and counted in the private room (replay, auth), unseen in the open one" \
	case_tamper

case_cleanup() {
	lp_topology_down
	LP_PIDS=()
	! ip netns list | grep -q "^$LP_NS-" && ! ip link show "$LP_NS-t1" >/dev/null 2>&1 &&
		! pgrep -f "$LP_TMP" >/dev/null
}
check "no namespace, link or process is left behind" case_cleanup

echo "netns-blind: $passed passed, $failed failed"
[ $failed -eq 0 ]
