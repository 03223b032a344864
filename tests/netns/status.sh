# The status command in the LAN party of run.sh (sourced by it, after the
# leases and pings: every player has an address and has ARPed the others).
#
#   c1$ lanparty-client status          the gateway and c2, with c2's LAN
#                                       IPv4 and every RTT
#   c1$ lanparty-client status --json   the same document; jq checks it
#   gw$ lanparty-gateway status --json  both players with their LAN IPs
#   c1$ setpriv --reuid 12345 ... status   refused: another user
#
# Each daemon's socket is $LP_TMP/<name>/status.sock (lib.sh), owned by
# "nobody", the user the daemons drop to.

lp_status() { # lp_status NS PROG NAME [ARGS...]: status of the daemon NAME
	local n=$1 prog=$2 name=$3
	shift 3
	ns "$n" "$LP_BUILD/src/$prog/lanparty-$prog" status --status-socket "$LP_TMP/$name/status.sock" "$@"
}

# c1's table lists the gateway and c2 (its MAC, its LAN IPv4) with RTTs.
status_table_ok() {
	local out c2_mac
	out=$(lp_status c1 client c1) || return 1
	c2_mac=$(jq -r .mac "$LP_TMP/c2-identity.json")
	grep -Eq "^  [0-9]+ +gateway .* [0-9.]+ ms " <<<"$out" &&
		grep -Eq "^  [0-9]+ +client +$c2_mac +$c2_ip +[0-9.]+ ms .* [0-9.]+ ms$" <<<"$out" &&
		grep -q "RTT to relay [0-9.]* ms" <<<"$out"
}
case_status_table() {
	lp_wait_for 10 "c1's status lists the gateway and c2 with c2's address" status_table_ok || {
		lp_status c1 client c1
		return 1
	}
	lp_status c1 client c1 | sed 's/^/   /'
}

case_status_json() {
	local c2_mac
	c2_mac=$(jq -r .mac "$LP_TMP/c2-identity.json")
	# A private room (LP_PRIVATE=1) is named by its label, "~" and 8 characters.
	lp_status c1 client c1 --json | jq -e --arg ip "$c2_ip" --arg mac "$c2_mac" \
		--arg room "$LP_ROOM" --arg priv "${LP_PRIVATE:-0}" '
		.state == "admitted" and .rtt_us > 0 and
		(if $priv == "1" then .room | test("^~[A-Za-z0-9_-]{8}$") else .room == $room end) and
		.lan_ip != null and (.peers | length) == 2 and
		(.peers[] | select(.role == "gateway") | .rtt_us > 0 and .est_rtt_us > .rtt_us) and
		(.peers[] | select(.role == "client") |
			.mac == $mac and .lan_ip == $ip and .rtt_us > 0 and .est_rtt_us > 0)' >/dev/null &&
		lp_status gw gateway gateway --json | jq -e --arg a "$c1_ip" --arg b "$c2_ip" '
			.role == "gateway" and ([.peers[].lan_ip] | sort) == ([$a, $b] | sort) and
			(.lan_hosts | map(.lan_ip) | index("10.77.0.1") != null)' >/dev/null
}

case_status_other_user() {
	local err
	# The daemon's own user (nobody) and root may read it; uid 12345 may not.
	ns c1 setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$LP_BUILD/src/client/lanparty-client" status --status-socket "$LP_TMP/c1/status.sock" \
		>/dev/null || return 1
	if err=$(ns c1 setpriv --reuid 12345 --regid 12345 --clear-groups \
		"$LP_BUILD/src/client/lanparty-client" status --status-socket "$LP_TMP/c1/status.sock" \
		2>&1 >/dev/null); then
		echo "   another user read the status" >&2
		return 1
	fi
	echo "   uid 12345: $err"
	grep -q "permission denied" <<<"$err"
}
