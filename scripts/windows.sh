#!/usr/bin/env bash
# The Windows build (x86_64-w64-mingw32) and its tests under Wine.
#
# Usage: scripts/windows.sh build   deps, configure build-win once, ninja
#        scripts/windows.sh check   build, then under Wine: meson's unit and wine suites, the
#                                   QUIC interop test (the Windows client stack against the
#                                   Linux lanparty-relay of build/, built if needed), and the
#                                   client-win end-to-end run (tests/wine/test_client_win_e2e.sh)
# Ends with one summary line; exits non-zero on any failure.
#
# Interop topology (all on 127.0.0.1, the relays are Linux processes):
#
#   wine test_quic_client_wine.exe ──QUIC/UDP──> lanparty-relay (dev cert, pinned DER)
#     (wolfSSL + Winsock)          ──QUIC/UDP──> lanparty-relay (CA-signed cert for localhost)
#
# Env: LP_WIN_BUILD (default build-win), LP_LINUX_BUILD (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bdir=${LP_WIN_BUILD:-$top/build-win}
ldir=${LP_LINUX_BUILD:-$top/build}
t0=$SECONDS

log() { printf 'windows: [%3ds] %s\n' $((SECONDS - t0)) "$*"; }

export WINEPREFIX=$bdir/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=

build() {
	local prefix
	# Called from `||` contexts, where set -e does not apply: every step checks itself.
	scripts/deps.sh windows || return 1
	prefix=$(scripts/mingw-deps.sh --print-prefix) || return 1
	# A new Debian version of a dependency moves the prefix: the old configuration points
	# at a deleted directory, so start over.
	if [ -f "$bdir/build.ninja" ] && [ "$(cat "$bdir/.mingw-prefix" 2>/dev/null)" != "$prefix" ]; then
		log "dependency prefix changed, reconfiguring $bdir"
		rm -rf "$bdir"
	fi
	if [ ! -f "$bdir/build.ninja" ]; then
		meson setup "$bdir" --werror --cross-file build-aux/mingw-w64.ini \
			--cross-file "$prefix/meson-deps.ini" || return 1
		printf '%s\n' "$prefix" >"$bdir/.mingw-prefix"
	fi
	ninja -C "$bdir"
}

# ---- check ------------------------------------------------------------------

relay_pids=()
failed=()

cleanup() {
	local p
	for p in "${relay_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# Every prefix our tests used lives in build-win (meson tests may set their own).
	if [ -d "$bdir" ]; then
		while IFS= read -r p; do
			WINEPREFIX=${p%/system.reg} wineserver -k 2>/dev/null || true
		done < <(find "$bdir" -maxdepth 4 -name system.reg -path '*wineprefix*' 2>/dev/null)
	fi
}

# winpath UNIX_PATH: the same file seen from Wine (drive Z: is /).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# start_relay NAME PORT ARGS...: a Linux lanparty-relay on 127.0.0.1:PORT, log in $work.
start_relay() {
	local name=$1 port=$2
	shift 2
	"$ldir/src/relay/lanparty-relay" --listen "127.0.0.1:$port" --log-level debug \
		--status-interval 0 --state-dir "$work/$name-state" "$@" >"$work/$name.log" 2>&1 &
	relay_pids+=($!)
}

# Runs the interop test against two fresh relays; 0 on success.
interop() {
	local port1 port2 i
	if [ ! -x "$ldir/src/relay/lanparty-relay" ]; then
		[ -f "$ldir/build.ninja" ] || meson setup "$ldir" --werror >/dev/null
		ninja -C "$ldir" src/relay/lanparty-relay >/dev/null || return 1
	fi
	work=$bdir/quic-interop
	rm -rf "$work"
	mkdir -p "$work"
	# A CA and a leaf for "localhost" / 127.0.0.1 signed by it, for the --ca-file path.
	cat >"$work/ca.tmpl" <<-'EOF'
		cn = "softlan-vpn wine test CA"
		ca
		cert_signing_key
		expiration_days = 2
	EOF
	cat >"$work/leaf.tmpl" <<-'EOF'
		cn = "localhost"
		dns_name = "localhost"
		ip_address = "127.0.0.1"
		tls_www_server
		signing_key
		expiration_days = 2
	EOF
	{ certtool -q --generate-privkey --key-type=ecdsa --outfile "$work/ca.key" &&
		certtool -q --generate-self-signed --load-privkey "$work/ca.key" \
			--template "$work/ca.tmpl" --outfile "$work/ca.pem" &&
		certtool -q --generate-privkey --key-type=ecdsa --outfile "$work/leaf.key" &&
		certtool -q --generate-certificate --load-privkey "$work/leaf.key" \
			--load-ca-certificate "$work/ca.pem" --load-ca-privkey "$work/ca.key" \
			--template "$work/leaf.tmpl" --outfile "$work/leaf.pem"; } \
		>"$work/certtool.log" 2>&1 || { log "certtool failed"; cat "$work/certtool.log"; return 1; }

	port1=$((20000 + RANDOM % 20000))
	port2=$((port1 + 1))
	start_relay relay-pin "$port1" --dev-cert-der-out "$work/relay.der" \
		--dev-cert-names localhost,127.0.0.1
	start_relay relay-ca "$port2" --cert "$work/leaf.pem" --key "$work/leaf.key"
	for i in $(seq 50); do
		[ -s "$work/relay.der" ] && break
		sleep 0.1
	done
	sleep 0.3
	for i in "${relay_pids[@]}"; do
		if ! kill -0 "$i" 2>/dev/null; then
			log "a relay did not start:"
			tail -n 20 "$work"/relay-*.log
			return 1
		fi
	done
	if ! (cd "$work" && wine "$bdir/lib/quic/test_quic_client_wine.exe" 127.0.0.1 "$port1" \
		"$(winpath "$work/relay.der")" "$(winpath "$work")" \
		"$(winpath "$work/ca.pem")" "$port2"); then
		log "relay logs (last lines):"
		tail -n 30 "$work"/relay-*.log
		return 1
	fi
}

check() {
	local tb
	trap cleanup EXIT
	scripts/deps.sh windows || { failed+=(deps); return 0; }
	# The Wine prefix takes as long to create as the build: do both at once.
	mkdir -p "$WINEPREFIX"
	# Persistent, so each test does not start its own; detached from our output.
	wineserver -p </dev/null >/dev/null 2>&1
	(wineboot --init >/dev/null 2>&1 || true) &
	local boot=$!
	tb=$SECONDS
	build || failed+=(build)
	log "build done ($((SECONDS - tb))s)"
	wait "$boot" || true
	[ ${#failed[@]} -eq 0 ] || return 0

	tb=$SECONDS
	if meson test -C "$bdir" --no-rebuild --print-errorlogs --suite unit --suite wine; then
		log "meson unit + wine suites passed ($((SECONDS - tb))s)"
	else
		failed+=(meson-tests)
	fi
	tb=$SECONDS
	if interop; then
		log "QUIC interop with the Linux relay passed ($((SECONDS - tb))s)"
	else
		failed+=(quic-interop)
	fi
	# The real .exe in a network namespace, its TAP replaced by the named-pipe
	# stand-in, next to the Linux relay and gateway: DHCP across the tunnel.
	tb=$SECONDS
	if ninja -C "$ldir" src/relay/lanparty-relay src/gateway/lanparty-gateway \
		tests/netns/dhcp_probe >/dev/null &&
		tests/wine/test_client_win_e2e.sh "$ldir" "$bdir"; then
		log "client-win end-to-end under Wine passed ($((SECONDS - tb))s)"
	else
		failed+=(client-win-e2e)
	fi
	# The same in a private room: the .exe joins with the gateway's invite alone.
	tb=$SECONDS
	if LP_PRIVATE=1 tests/wine/test_client_win_e2e.sh "$ldir" "$bdir"; then
		log "client-win end-to-end in a private room under Wine passed ($((SECONDS - tb))s)"
	else
		failed+=(client-win-e2e-private)
	fi
}

case ${1:-} in
build)
	build
	log "built $bdir"
	;;
check)
	check
	if [ ${#failed[@]} -gt 0 ]; then
		echo "windows: FAILED: ${failed[*]} ($((SECONDS - t0))s)"
		exit 1
	fi
	echo "windows: build, unit + wine tests, QUIC interop, client-win end-to-end: all passed ($((SECONDS - t0))s)"
	;;
*)
	echo "usage: $0 build|check" >&2
	exit 2
	;;
esac
