#!/usr/bin/env bash
# units.sh BUILD_ROOT CONF_DIR UNIT...: the systemd units of softlan-vpn.
#
# 1. `systemd-analyze verify` passes for each unit (templates as an instance),
#    with its ExecStart pointing at the build's binary and its Documentation=
#    pages found in the build's man pages; `systemd-analyze security` rates
#    each at 2.0 or better ("OK").
# 2. Each unit's ExecStart line, expanded the way systemd does (%i, %S, $VAR
#    from its EnvironmentFile), started by hand as the unit's user with the
#    unit's capabilities (setpriv: this machine has no systemd as PID 1)
#    starts its daemon, in a network namespace of this test:
#      relay   the shipped relay.conf as is (443/udp, metrics on
#              127.0.0.1:9477: ports only the namespace sees), CAP_NET_BIND_SERVICE
#              is what lets it bind 443; checked through /metrics
#      gateway on a veth interface, joins the relay as the room's gateway
#      client  joins the room: its TAP appears, its identity is created in its
#              StateDirectory, it runs with CAP_NET_ADMIN only
#      peers   their RuntimeDirectory (under a stand-in for /run) holds the
#              status socket, and `status` answers through it
#    then each is stopped by PID with SIGTERM and must exit 0.
# DynamicUser= units run as a uid from systemd's dynamic range that no
# account uses. Needs root (exit 77, "skipped", otherwise).
set -euo pipefail
build=$(cd "$1" && pwd)
confdir=$2
shift 2
units=("$@")

if [ "$(id -u)" -ne 0 ]; then
	echo "units: needs root (network namespace, setpriv); skipped"
	exit 77
fi

tmp=$(mktemp -d /tmp/lp-units.XXXXXX)
chmod 0755 "$tmp"
ns=lp-units-$$-$RANDOM
pids=()
fail() {
	echo "units: FAIL: $*" >&2
	for f in "$tmp"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# unit_get FILE KEY: the value of KEY (the last one, as systemd takes it).
unit_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# ---- 1. systemd-analyze verify ----------------------------------------------
mkdir -p "$tmp/units" "$tmp/man/man8"
cp "$build"/man/*.8 "$tmp/man/man8/"
verify_names=()
for u in "${units[@]}"; do
	name=$(basename "$u")
	exe=$(unit_get "$u" ExecStart | awk '{ print $1 }')
	prog=$(basename "$exe")
	bin="$build/src/${prog#lanparty-}/$prog"
	[ -x "$bin" ] || fail "$name: no built binary $bin for ExecStart $exe"
	sed "s#^ExecStart=$exe#ExecStart=$bin#" "$u" >"$tmp/units/$name"
	case $name in
	*@.service) verify_names+=("$tmp/units/${name%@.service}@test0.service") ;;
	*) verify_names+=("$tmp/units/$name") ;;
	esac
done
for v in "${verify_names[@]}"; do
	if ! out=$(MANPATH=$tmp/man systemd-analyze verify "$v" 2>&1) || [ -n "$out" ]; then
		fail "systemd-analyze verify $(basename "$v"): $out"
	fi
	echo "units: systemd-analyze verify $(basename "$v"): ok"
	# Exposure at most 2.0 ("OK"; 20 on the threshold's 0-100 scale): a unit that loses
	# its hardening fails here.
	if ! out=$(systemd-analyze security --offline=true --threshold=20 "$v" 2>&1); then
		fail "systemd-analyze security $(basename "$v") is above 2.0: $(tail -n 1 <<<"$out")"
	fi
	echo "units: $(tail -n 1 <<<"$out" | sed 's/^→ //')"
done

# ---- 2. ExecStart by hand -----------------------------------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add lpgw0 type veth peer name lpgw1
ip -n "$ns" link set lpgw0 up && ip -n "$ns" link set lpgw1 up
state=$tmp/state # stands for /var/lib (%S)
run=$tmp/run     # stands for /run (RuntimeDirectory=)
mkdir -p "$state"

next_uid=61184
# free_uid: a uid in systemd's dynamic range no account uses.
free_uid() {
	while getent passwd "$next_uid" >/dev/null || getent group "$next_uid" >/dev/null; do
		next_uid=$((next_uid + 1))
	done
	uid=$next_uid
	next_uid=$((next_uid + 1))
}

# start UNIT INSTANCE ENVFILE LOG: runs the unit's ExecStart as its user with
# its capabilities in the namespace; sets $pid and $uid.
start() {
	local unit=$tmp/units/$1 inst=$2 envfile=$3 log=$4 line caps user sdir rdir dir w v
	local -a words argv setpriv_args
	line=$(unit_get "$unit" ExecStart)
	line=${line//%i/$inst}
	line=${line//%S/$state}
	read -r -a words <<<"$line"
	argv=()
	for w in "${words[@]}"; do
		if [[ $w =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
			# Unquoted $VAR: split into words, as systemd does.
			# shellcheck source=/dev/null
			v=$(set -a && . "$envfile" && printenv "${BASH_REMATCH[1]}") ||
				fail "$1: $envfile does not set ${BASH_REMATCH[1]}"
			read -r -a more <<<"$v"
			argv+=("${more[@]}")
		else
			argv+=("$w")
		fi
	done
	user=$(unit_get "$unit" User)
	if [ "$(unit_get "$unit" DynamicUser)" = yes ] || [ -z "$user" ]; then
		free_uid
	else
		uid=$(id -u "$user")
	fi
	sdir=$(unit_get "$unit" StateDirectory)
	sdir=${sdir//%i/$inst}
	for dir in $sdir; do
		mkdir -p "$state/$dir"
		chown "$uid:$uid" "$state/$dir"
	done
	# RuntimeDirectory=: made for the user with its mode, named in
	# $RUNTIME_DIRECTORY, as systemd does.
	rdir=$(unit_get "$unit" RuntimeDirectory)
	rdir=${rdir//%i/$inst}
	if [ -n "$rdir" ]; then
		mkdir -p "$run/$rdir"
		chown "$uid:$uid" "$run/$rdir"
		chmod "$(unit_get "$unit" RuntimeDirectoryMode)" "$run/$rdir"
		argv=(env "RUNTIME_DIRECTORY=$run/$rdir" "${argv[@]}")
	fi
	caps=$(unit_get "$unit" AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/\bcap_/+/g; s/ /,/g')
	setpriv_args=(--reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all${caps:+,$caps}
		--bounding-set=-all${caps:+,$caps})
	[ -z "$caps" ] || setpriv_args+=(--ambient-caps="$caps")
	[ "$(unit_get "$unit" NoNewPrivileges)" != yes ] || setpriv_args+=(--no-new-privs)
	echo "units: $1 ($inst) as uid $uid, capabilities ${caps:-none}: ${argv[*]}"
	if grep -q '^DeviceAllow=/dev/net/tun' "$unit" && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
		# udev gives /dev/net/tun mode 0666 (systemd's 50-udev-default.rules); a machine
		# without udev (this container) has 0600. Stand in for the rule with a 0666 node
		# over it, in a mount namespace of this daemon only (on a tmpfs of its own, which
		# allows device nodes where /tmp may be nodev).
		mkdir -p "$tmp/tunfs"
		(cd / && exec unshare -m --propagation private sh -c \
			'mount -t tmpfs -o mode=0755 lp-tun "$0" && mknod -m 0666 "$0/tun" c 10 200 &&
			 mount --bind "$0/tun" /dev/net/tun && exec "$@"' "$tmp/tunfs" \
			ip netns exec "$ns" setpriv "${setpriv_args[@]}" "${argv[@]}") >"$log" 2>&1 &
	else
		(cd / && exec ip netns exec "$ns" setpriv "${setpriv_args[@]}" "${argv[@]}") \
			>"$log" 2>&1 &
	fi
	pid=$!
	pids+=("$pid")
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
	local what=$1 _
	shift
	for _ in $(seq $(($1 * 10))); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$what"
}

metrics() { # GET /metrics from inside the namespace
	ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9477 &&
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3'
}
stop() { # stop NAME PID: SIGTERM, exit status 0 within 10 s
	local rc=0
	kill -TERM "$2"
	timeout 10 tail --pid="$2" -f /dev/null || fail "$1 did not stop on SIGTERM"
	wait "$2" || rc=$?
	[ $rc -eq 0 ] || fail "$1 exited $rc after SIGTERM"
	echo "units: $1 stopped by SIGTERM, exit status 0"
}
caps_of() { awk '/^CapEff:/ { print $2 }' "/proc/$1/status"; }
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }

# The relay: the shipped configuration, /var/lib moved into the test.
sed "s#/var/lib/#$state/#g" "$confdir/relay.conf" >"$tmp/relay.conf"
start lanparty-relay.service "" "$tmp/relay.conf" "$tmp/relay.log"
relay_pid=$pid relay_uid=$uid
wait_for "relay serves /metrics on 127.0.0.1:9477" 10 bash -c "$(declare -f metrics); ns=$ns; metrics | grep -q '^HTTP/1.0 200'"
grep -q "relay up on 443/udp" "$tmp/relay.log" || fail "relay did not log 'relay up on 443/udp'"
[ -s "$state/softlan-vpn/relay-cert.der" ] || fail "relay wrote no certificate into its StateDirectory"
[ "$(stat -c %u "$state/softlan-vpn/relay-cert.der")" = "$relay_uid" ] || fail "certificate not owned by the relay's user"
[ "$(uid_of "$relay_pid")" = "$relay_uid" ] || fail "relay not running as uid $relay_uid"
echo "units: relay up on 443/udp as uid $relay_uid, /metrics answers, CapEff $(caps_of "$relay_pid")"

pin=$tmp/relay-cert.der
cp "$state/softlan-vpn/relay-cert.der" "$pin"
chmod 0644 "$pin"
printf 'LANPARTY_GATEWAY_ARGS="--relay 127.0.0.1 --server-name localhost --relay-ca-cert %s --room PKGTEST"\n' \
	"$pin" >"$tmp/gateway.conf"
start lanparty-gateway@.service lpgw0 "$tmp/gateway.conf" "$tmp/gateway.log"
gw_pid=$pid gw_uid=$uid
wait_for "the relay admits the gateway (metrics: a gateway peer in PKGTEST)" 10 bash -c \
	"$(declare -f metrics); ns=$ns; metrics | grep -q 'room=\"PKGTEST\".*role=\"gateway\"'"
[ "$(uid_of "$gw_pid")" = "$gw_uid" ] || fail "gateway not running as uid $gw_uid"
[ "$(caps_of "$gw_pid")" = 0000000000000000 ] || fail "gateway kept capabilities: $(caps_of "$gw_pid")"
echo "units: gateway on lpgw0 admitted, uid $gw_uid, no capabilities left"

printf 'LANPARTY_CLIENT_ARGS="--relay 127.0.0.1 --server-name localhost --relay-ca-cert %s --room PKGTEST --tap lppkg0"\n' \
	"$pin" >"$tmp/client.conf"
start lanparty-client@.service pkgtest "$tmp/client.conf" "$tmp/client.log"
cl_pid=$pid cl_uid=$uid
wait_for "the client's TAP lppkg0 appears" 10 ip -n "$ns" link show lppkg0
ident=$state/softlan-vpn-client/pkgtest/identity.json
[ -s "$ident" ] || fail "client created no identity file in its StateDirectory ($ident)"
[ "$(stat -c %u "$ident")" = "$cl_uid" ] || fail "identity file not owned by the client's user"
[ "$(uid_of "$cl_pid")" = "$cl_uid" ] || fail "client not running as uid $cl_uid"
# CAP_NET_ADMIN is bit 12.
[ "$(caps_of "$cl_pid")" = 0000000000001000 ] || fail "client capabilities: $(caps_of "$cl_pid")"
echo "units: client in PKGTEST, TAP lppkg0 up, uid $cl_uid, CAP_NET_ADMIN only"

# The status socket is in each peer's RuntimeDirectory, owned by its user.
for peer in client:client-pkgtest:$cl_uid gateway:gateway-lpgw0:$gw_uid; do
	IFS=: read -r name dir owner <<<"$peer"
	sock=$run/softlan-vpn/$dir/status.sock
	wait_for "the $name answers status on $sock" 10 bash -c \
		"'$build/src/$name/lanparty-$name' status --json --status-socket '$sock' | grep -q '\"room\":\"PKGTEST\"'"
	[ "$(stat -c %u:%a "$sock")" = "$owner:600" ] || fail "$sock: owner and mode $(stat -c %u:%a "$sock")"
done
echo "units: both peers answer status from their RuntimeDirectory (sockets 0600, their users')"

stop client "$cl_pid"
ip -n "$ns" link show lppkg0 >/dev/null 2>&1 && fail "TAP lppkg0 left behind by the client"
stop gateway "$gw_pid"
stop relay "$relay_pid"
pids=()
echo "units: all units verify and start their daemons"
