#!/usr/bin/env bash
# install.sh BUILD_ROOT: `meson install --destdir` of the build puts every
# file where README.md "Install" says, relative to the configured prefix,
# and the installed units point at the installed binaries and configuration.
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/lp-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install: FAIL: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log" >&2; fail "meson install --destdir failed"; }
opts=$(meson introspect "$build" --buildoptions)
opt() { jq -r --arg n "$1" '.[] | select(.name == $n) | .value' <<<"$opts"; }
prefix=$(opt prefix)
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$(opt bindir)")
mandir=$(abs "$(opt mandir)")
sysconfdir=$(abs "$(opt sysconfdir)")
unitdir=$(opt systemdunitdir)
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system

want=(
	"$bindir/lanparty-relay" "$bindir/lanparty-gateway" "$bindir/lanparty-client"
	"$mandir/man8/lanparty-relay.8" "$mandir/man8/lanparty-gateway.8" "$mandir/man8/lanparty-client.8"
	"$unitdir/lanparty-relay.service" "$unitdir/lanparty-gateway@.service"
	"$unitdir/lanparty-client@.service"
	"$sysconfdir/softlan-vpn/relay.conf" "$sysconfdir/softlan-vpn/gateway.conf.example"
	"$sysconfdir/softlan-vpn/client.conf.example"
)
for f in "${want[@]}"; do
	[ -s "$tmp/root$f" ] || fail "$f not installed"
done
for b in relay gateway client; do
	[ -x "$tmp/root$bindir/lanparty-$b" ] || fail "$bindir/lanparty-$b not executable"
done
# Nothing else: no test program, benchmark or library lands in the install.
got=$(cd "$tmp/root" && find . -type f | sed 's/^\.//' | sort)
extra=$(comm -13 <(printf '%s\n' "${want[@]}" | sort) <(echo "$got"))
[ -z "$extra" ] || fail "unexpected files installed: $extra"
for u in lanparty-relay.service lanparty-gateway@.service lanparty-client@.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$tmp/root$unitdir/$u")
	[ "$exe" = "$bindir/${exe##*/}" ] || fail "$u starts $exe, not a program of $bindir"
	envf=$(sed -n 's/^EnvironmentFile=//p' "$tmp/root$unitdir/$u")
	[ "${envf%/*}" = "$sysconfdir/softlan-vpn" ] || fail "$u reads $envf, not from $sysconfdir/softlan-vpn"
done
echo "install: ${#want[@]} files under prefix $prefix, units point at $bindir and $sysconfdir/softlan-vpn"
