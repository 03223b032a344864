#!/usr/bin/env bash
# End to end: the real lanparty-client-win.exe under Wine joins a room and a
# DHCP DISCOVER it reads from its "TAP" reaches the LAN's dnsmasq, whose
# OFFER comes back through relay, tunnel and client. Topology (lib.sh):
#
#   [lan]   10.77.0.1/24 lan0 + dnsmasq (DHCP .100-.199)
#     |  veth
#   [gw]    lanport <- lanparty-gateway (Linux)      wan0 198.18.0.2 --+
#   [relay] br-inet 198.18.0.1 <- lanparty-relay :4433 (Linux)        |
#   [c1]    wan0 198.18.0.3 --------------------------------------------+
#           wine: lanparty-client-win.exe --tap \\.\pipe\lanparty-e2e
#                    |  named pipe (the TAP-Windows6 driver's stand-in)
#           wine: tap_pipe_server.exe --port 40001 --peer 40002
#                    |  UDP 127.0.0.1, one Ethernet frame per datagram
#           dhcp_probe (Linux): DISCOVER out, OFFER in
#
# Wine has no TAP driver and no route API (GetBestRoute2 is a stub), hence
# the stand-in, a fake adapter in the Wine registry (lp_tap_open still looks
# it up and writes its NetworkAddress) and --allow-no-route-protection.
# Every Wine process, wineserver included, runs inside the c1 namespace.
#
# Usage (root): tests/wine/test_client_win_e2e.sh [LINUX_BUILD [WINDOWS_BUILD]]
#   defaults: build and build-win. Exit 0 all passed, 1 a check failed,
#   77 skipped (not root, no wine, no network namespaces). Logs are kept
#   (path printed) when a check failed or LP_KEEP_LOGS is set.
set -uo pipefail
LP_SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$LP_SRC" || exit 1
LP_BUILD=${1:-${LP_BUILD:-build}}
LP_BUILD_WIN=${2:-${LP_BUILD_WIN:-build-win}}
LP_NS=lpw$$
. tests/netns/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "wine e2e: skipped: needs root (network namespaces)" >&2
	exit 77
fi
if ! command -v wine >/dev/null || ! command -v dnsmasq >/dev/null; then
	echo "wine e2e: skipped: needs wine and dnsmasq" >&2
	exit 77
fi
if ! ip netns add "$LP_NS-probe" 2>/dev/null; then
	echo "wine e2e: skipped: cannot create network namespaces here" >&2
	exit 77
fi
ip netns del "$LP_NS-probe"
CLIENT_EXE=$LP_BUILD_WIN/src/client-win/lanparty-client-win.exe
PIPE_EXE=$LP_BUILD_WIN/tests/wine/tap_pipe_server.exe
for f in "$LP_BUILD/src/relay/lanparty-relay" "$LP_BUILD/src/gateway/lanparty-gateway" \
	"$LP_BUILD/tests/netns/dhcp_probe" "$CLIENT_EXE" "$PIPE_EXE"; do
	[ -e "$f" ] || { echo "wine e2e: $f is not built" >&2; exit 1; }
done
CLIENT_EXE=$(realpath "$CLIENT_EXE")
PIPE_EXE=$(realpath "$PIPE_EXE")

PIPE='\\.\pipe\lanparty-e2e'
PIPE_PORT=40001
PROBE_PORT=40002
TAP_GUID='{5A17C0DE-E2E0-4B1D-9C3A-0123456789AB}'
CLASS_KEY='HKLM\SYSTEM\CurrentControlSet\Control\Class\{4D36E972-E325-11CE-BFC1-08002BE10318}\0190'
NET_KEY="HKLM\\SYSTEM\\CurrentControlSet\\Control\\Network\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\$TAP_GUID\\Connection"
export WINEPREFIX=$LP_TMP/wineprefix WINEDEBUG=-all DISPLAY='' WINEDLLOVERRIDES='mscoree,mshtml='

# Z:\ is the Unix root in every Wine prefix.
winpath() { printf 'Z:%s' "${1//\//\\}"; }
wine_c1() { ns c1 wine "$@"; }

passed=0
failed=0
cleanup() {
	# wineserver and any Wine process left are in c1: lp_topology_down kills the
	# namespaces' processes by PID before deleting them.
	lp_topology_down
	if [ $failed -gt 0 ] || [ -n "${LP_KEEP_LOGS:-}" ]; then
		echo "wine e2e: logs kept in $LP_TMP"
	else
		rm -rf "$LP_TMP"
	fi
}
trap cleanup EXIT

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

dump_logs() {
	local f
	for f in "$LP_TMP"/*.log; do
		echo "--- $f (last 30 lines)"
		tail -n 30 "$f"
	done
}

lp_topology_up
lp_start_relay || { dump_logs; exit 1; }
lp_start_gateway
lp_wait_for 15 "gateway admitted" lp_log_has gateway "admitted" || { dump_logs; exit 1; }

# A fresh prefix inside c1 (its wineserver starts there too), with one fake
# TAP-Windows6 adapter for lp_tap_open's registry lookup.
register_adapter() {
	wine_c1 wineboot -i &&
		wine_c1 reg add "$CLASS_KEY" /v ComponentId /d tap0901 /f &&
		wine_c1 reg add "$CLASS_KEY" /v NetCfgInstanceId /d "$TAP_GUID" /f &&
		wine_c1 reg add "$NET_KEY" /v Name /d "LAN party" /f
}
# Wine 8 now and then fails to create a fresh prefix under load ("could not
# load kernel32.dll", seen once in make check on a busy machine while the
# next run passed): that is Wine's start-up, not the client, so a failed
# setup is retried once on a new prefix before the run counts as failed.
retry_adapter() {
	echo "wine e2e: prefix setup failed, retrying once on a new prefix" >&2
	ns c1 wineserver -k 2>/dev/null || true
	rm -rf "$WINEPREFIX"
	register_adapter
}
if ! register_adapter >"$LP_TMP/wineboot.log" 2>&1 &&
	! retry_adapter >>"$LP_TMP/wineboot.log" 2>&1; then
	echo "wine e2e: cannot set up the Wine prefix with a fake adapter" >&2
	dump_logs
	exit 1
fi

lp_start pipesrv c1 wine "$PIPE_EXE" --pipe "$PIPE" --port $PIPE_PORT --peer $PROBE_PORT --once
lp_wait_for 30 "tap_pipe_server ready" lp_log_has pipesrv "tap_pipe_server: pipe" ||
	{ dump_logs; exit 1; }

IDENTITY=$LP_TMP/c1-identity.json
# LP_PRIVATE=1 (lib.sh): a private room, joined with the gateway's invite alone.
if [ "${LP_PRIVATE:-0}" = 1 ]; then
	ROOM_ARGS=(--invite-file "$(winpath "$LP_TMP/party.invite")")
	ROOM_SHOWN="~"
else
	ROOM_ARGS=(--relay "$LP_RELAY_ADDR" --server-name relay.test
		--relay-ca-cert "$(winpath "$LP_TMP/relay-cert.der")" --room "$LP_ROOM")
	ROOM_SHOWN=$LP_ROOM
fi
lp_start c1 c1 wine "$CLIENT_EXE" "${ROOM_ARGS[@]}" --tap "$PIPE" \
	--identity "$(winpath "$IDENTITY")" --allow-no-route-protection --status-interval 2 \
	--log-level debug
lp_wait_for 60 "client bridging" lp_log_has c1 "bridging TAP adapter" || dump_logs

MAC=$(sed -n 's/.*"mac" *: *"\([0-9a-fA-F:]*\)".*/\1/p' "$IDENTITY" 2>/dev/null)

case_identity() {
	[[ $MAC =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] &&
		(( 0x${MAC:0:2} & 2 )) && ! (( 0x${MAC:0:2} & 1 )) &&
		lp_log_has c1 "generated tunnel MAC $MAC, saved to"
}
check "client generates a locally administered identity MAC and saves it" case_identity

case_admitted() {
	lp_log_has c1 "admitted to room $ROOM_SHOWN" && lp_log_has c1 "LAN gateway present" &&
		lp_log_has gateway "$MAC"
}
check "client is admitted, reports the LAN gateway, the gateway sees its MAC" case_admitted

case_route_warning() {
	# Wine 8's GetBestRoute2 answers ERROR_NOT_SUPPORTED; a Wine with a working
	# one would pin instead. Either way the outcome must be stated.
	lp_log_has c1 "route protection unavailable: [A-Za-z0-9]* not supported on this system" ||
		lp_log_has c1 "relay route pinned"
}
check "route protection outcome is logged (unavailable under Wine, or pinned)" case_route_warning

case_bring_up() {
	lp_log_has c1 "TAP adapter \"LAN party\" $TAP_GUID opened through a test stand-in" &&
		lp_log_has c1 "NetworkAddress set to $MAC" && lp_log_has c1 "bridging TAP adapter"
}
check "client opens the adapter found in the registry and starts bridging" case_bring_up

case_order() { # the shared startup order (src/common/boot.c): connect, then admission,
	# and only then the adapter (after the relay route step)
	local f="$LP_TMP/c1.log" join conn adm tap
	join=$(grep -n -m1 "joining room $ROOM_SHOWN" "$f" | cut -d: -f1)
	conn=$(grep -n -m1 "connecting to relay" "$f" | cut -d: -f1)
	adm=$(grep -n -m1 "admitted to room" "$f" | cut -d: -f1)
	tap=$(grep -n -m1 "TAP adapter .* opened" "$f" | cut -d: -f1)
	echo "   lines: joining $join, connecting $conn, admitted $adm, adapter opened $tap"
	[ -n "$join" ] && [ -n "$conn" ] && [ -n "$adm" ] && [ -n "$tap" ] &&
		[ "$join" -lt "$conn" ] && [ "$conn" -lt "$adm" ] && [ "$adm" -lt "$tap" ]
}
check "startup order: joining, connecting, admitted, then the adapter is opened" case_order

offer=""
case_dhcp() {
	offer=$(ns c1 "$LP_BUILD/tests/netns/dhcp_probe" --mac "$MAC" --port $PROBE_PORT \
		--server-port $PIPE_PORT --timeout 25 2>"$LP_TMP/dhcp_probe.log") || return 1
	echo "   $offer"
	[[ $offer =~ ^offer\ 10\.77\.0\.1[0-9][0-9]\ from\ 10\.77\.0\.1$ ]] &&
		grep -qi "DHCPOFFER(lan0) 10.77.0.1[0-9][0-9] $MAC" "$LP_TMP/dnsmasq.log"
}
check "DHCP DISCOVER through the Windows client gets the LAN dnsmasq's OFFER back" case_dhcp

case_status() {
	lp_wait_for 6 "status lines" lp_log_has c1 "relay: connected; LAN gateway present" &&
		lp_log_has c1 "broadcast"
}
check "status lines report relay, gateway and broadcast flow" case_status

case_status_query() { # the .exe's status subcommand reads the running client's pipe
	local doc table pipe
	# The pipe the client said it answers on (its room's, or a private room's ~label).
	pipe=$(sed -n 's/.*status: `.*status` reads \(\\\\\.\\pipe\\.*\)$/\1/p' "$LP_TMP/c1.log" |
		tr -d '\r' | head -1)
	echo "   pipe: $pipe"
	[ -n "$pipe" ] || return 1
	doc=$(ns c1 timeout 30 wine "$CLIENT_EXE" status --status-socket "$pipe" --json | tr -d '\r') &&
		table=$(ns c1 timeout 30 wine "$CLIENT_EXE" status --status-socket "$pipe" | tr -d '\r') ||
		return 1
	printf '%s\n' "$table" | sed 's/^/   /'
	jq -e --arg mac "$MAC" '.state == "admitted" and .mac == $mac and .rtt_us > 0 and
		(.peers | length) == 1 and .peers[0].role == "gateway" and .peers[0].est_rtt_us > 0' \
		<<<"$doc" >/dev/null && grep -Eq "^  [0-9]+ +gateway " <<<"$table"
}
check "status: the .exe's status query answers with the room (JSON and table)" case_status_query

case_refuses_unprotected() {
	local rc=0
	ns c1 timeout 60 wine "$CLIENT_EXE" "${ROOM_ARGS[@]}" \
		--tap "$PIPE" --virtual-mac 02:e2:e0:00:00:02 >"$LP_TMP/c1-strict.log" 2>&1 || rc=$?
	[ $rc -eq 1 ] && grep -q "refusing to bridge" "$LP_TMP/c1-strict.log" &&
		! grep -q "bridging TAP adapter" "$LP_TMP/c1-strict.log"
}
check "without --allow-no-route-protection the client refuses to bridge (exit 1)" \
	case_refuses_unprotected

case_ctrl_c() {
	local pid rc=0
	pid=$(lp_pid c1)
	kill -INT "$pid" || return 1
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" || rc=$?
	eval "LP_PID_c1="
	[ $rc -eq 0 ] && lp_log_has c1 "Ctrl-C received, shutting down" && lp_log_has c1 "stopped" &&
		lp_wait_for 5 "gateway sees the leave" lp_log_has gateway "$MAC left.*client shutting down"
}
check "Ctrl-C: graceful disconnect the relay reports, exit status 0" case_ctrl_c

[ $failed -eq 0 ] || dump_logs
echo "wine e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
