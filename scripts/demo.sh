#!/usr/bin/env bash
# make demo: a whole LAN party in network namespaces, told in plain lines.
#
#   [lan] LAN host 10.77.0.1 + DHCP server (dnsmasq)
#     |
#   [gw]  lanparty-gateway on the LAN port ==QUIC==> [relay] lanparty-relay
#                                                      ^         ^
#                                     [c1] lanparty-client   [c2] lanparty-client
#
# Everything runs inside namespaces this script creates and removes; no
# packet leaves the machine.
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$LP_SRC"
LP_BUILD=${LP_BUILD:-build}
# A private room: the players join with the gateway's invite alone.
LP_PRIVATE=${LP_PRIVATE:-1}
. tests/netns/lib.sh

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
fail() {
	printf 'demo: %s (logs in %s)\n' "$*" "$LP_TMP" >&2
	KEEP_LOGS=1
	exit 1
}
KEEP_LOGS=0
cleanup() {
	lp_topology_down
	[ "$KEEP_LOGS" = 1 ] || rm -rf "$LP_TMP"
	say "cleaned up: namespaces, links and processes are gone"
}

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
trap cleanup EXIT

say "building a LAN party in network namespaces: a LAN with a DHCP server, a gateway, a relay, two remote players"
lp_topology_up || fail "could not create the namespaces"
lp_start_relay || fail "the relay did not start"
pin=$(grep -o 'relay pin: sha256:[A-Za-z0-9_-]*' "$LP_TMP/relay.log" | head -1)
say "relay up on $LP_RELAY_ADDR; it keeps its key in a state directory (${pin:-relay pin: ?})"
lp_start_gateway || fail "the gateway did not start"
lp_wait_for 15 "gateway admitted" lp_log_has gateway admitted || fail "the gateway did not join"
if [ "$LP_PRIVATE" = 1 ]; then
	room=$(grep -o 'room ~[A-Za-z0-9_-]*' "$LP_TMP/gateway.log" | head -1)
	say "gateway made its room file and joined ${room:-its private room}; its invite for the players:"
	say "  $(cut -d'#' -f1 "$LP_TMP/party.invite")#<secret>"
else
	say "gateway joined open room $LP_ROOM and bridges the LAN port"
fi
for c in c1 c2; do
	lp_start_client $c
	lp_wait_for 15 "$c admitted" lp_log_has $c admitted || fail "$c did not join"
done
if [ "$LP_PRIVATE" = 1 ]; then
	say "two remote players joined with nothing but the invite; each got a TAP interface 'lanparty0'"
	say "every frame between the players and the LAN is sealed end to end: the relay cannot read it"
else
	say "two remote players joined room $LP_ROOM; each got a TAP interface 'lanparty0'"
fi
mtu=$(ns c1 cat /sys/class/net/lanparty0/mtu 2>/dev/null)
say "the relay chose a room MTU of $mtu bytes (what one QUIC datagram carries; never fragmented)"

for c in c1 c2; do
	ip=$(lp_dhcp $c) || fail "$c got no DHCP lease"
	say "player $c got $ip from the LAN's DHCP server, across the bridge"
done

rtt=$(ns c1 ping -c 5 -i 0.2 -q 10.77.0.1 | awk -F/ '/^rtt/ {print $5}')
[ -n "$rtt" ] || fail "ping to the LAN host failed"
say "player c1 pings the LAN host 10.77.0.1: average round trip $rtt ms"
c2ip=$(ns c2 ip -4 -o addr show dev lanparty0 | awk '{print $4}' | cut -d/ -f1)
rtt=$(ns c1 ping -c 5 -i 0.2 -q "$c2ip" | awk -F/ '/^rtt/ {print $5}')
say "player c1 pings player c2 ($c2ip) through the relay: average $rtt ms"
sleep 2 # the relay's next peer_stats carries the RTTs those pings refreshed
say "what 'lanparty-client status' shows on player c1 (the relay's RTTs, the LAN addresses seen):"
ns c1 "$LP_BUILD/src/client/lanparty-client" status --status-socket "$LP_TMP/c1/status.sock" |
	sed 's/^/    /'

ns c2 "$LP_BUILD/tests/netns/udp_probe" recv 27015 "LAN game" 5 >/dev/null &
rpid=$!
sleep 0.3
ns lan "$LP_BUILD/tests/netns/udp_probe" send 255.255.255.255 27015 "LAN game on 10.77.0.1" 5 lan0
if wait $rpid; then
	say "a game server on the LAN broadcast its presence; player c2 saw it"
else
	fail "the broadcast did not reach c2"
fi

ns lan iperf3 -s -1 -B 10.77.0.1 >/dev/null 2>&1 &
spid=$!
sleep 0.5
mbit=$(ns c1 iperf3 -c 10.77.0.1 -t 3 -f m 2>/dev/null | awk '/receiver/ {print $7}')
wait $spid 2>/dev/null
say "TCP from player c1 to the LAN host: ${mbit:-?} Mbit/s (3 s iperf3, through gateway and relay)"

say "stopping the gateway: the players are told the LAN gateway left"
lp_stop gateway
lp_wait_for 10 "c1 sees the leave" lp_log_has c1 "LAN gateway left" &&
	say "player c1 logged: $(grep -m1 'LAN gateway left' "$LP_TMP/c1.log" | sed 's/^.*: //')"
say "done: that was a LAN party over QUIC. Try it for real: see README.md"
