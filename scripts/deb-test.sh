#!/usr/bin/env bash
# The Debian packages end to end (make check step "packaging"):
#   build     `make deb` (dpkg-buildpackage -us -uc -b) in a fresh git clone under /tmp
#   lint      lintian on the .changes: any error fails, warnings are printed
#   install   apt-get install ./softlan-*.deb (dependencies resolved by apt)
#   run       /usr/bin/lanparty-* --help and --version; the man pages are found by man;
#             systemd-analyze verify on the installed units
#   remove    apt-get purge: dpkg -s reports each package not installed, and no file is
#             left in /usr/bin, /etc/softlan-vpn or the unit directory
# Skips (exit 0, says so) when not root, without apt-get, or when a softlan package is
# already installed (it would be replaced, then removed). Env: LP_DEB_KEEP=1 keeps /tmp copy.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
t0=$SECONDS
pkgs=(softlan-relay softlan-gateway softlan-client)
bins=(lanparty-relay lanparty-gateway lanparty-client)
log() { printf 'deb-test: [%3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { log "FAIL: $*"; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
	log "skipped: needs root and apt-get to install packages"
	exit 0
fi
for p in "${pkgs[@]}"; do
	if installed "$p"; then
		log "skipped: $p is installed on this machine; not replacing it"
		exit 0
	fi
done

out=$(mktemp -d /tmp/lp-deb.XXXXXX)
did_install=0
cleanup() {
	if [ $did_install = 1 ]; then
		apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "${pkgs[@]}" >/dev/null 2>&1 || true
	fi
	[ "${LP_DEB_KEEP:-0}" = 1 ] || rm -rf "$out"
}
trap cleanup EXIT

# A fresh clone, as a user would start, with this tree's uncommitted changes (tracked files'
# diff, new files) laid over it so that make check tests what is here.
git clone -q "$top" "$out/clone" || die "git clone failed"
git -C "$top" diff --binary HEAD >"$out/local.diff"
if [ -s "$out/local.diff" ]; then
	git -C "$out/clone" apply --binary "$out/local.diff" || die "cannot apply the local changes"
fi
git -C "$top" ls-files -z --others --exclude-standard | (cd "$top" && tar -c --null -T -) |
	tar -x -C "$out/clone"
log "fresh clone of $(git -C "$top" rev-parse --short HEAD)$([ -s "$out/local.diff" ] && echo ' + local changes')"
# The unit suite already ran in the tests step: nocheck keeps this step short.
(cd "$out/clone" && LP_DEB_OUT=$out/debs DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" make deb) \
	>"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; die "make deb failed"; }
version=$(dpkg-parsechangelog -l "$out/clone/debian/changelog" -S Version)
debs=()
for p in "${pkgs[@]}"; do
	f=$(ls "$out/debs/${p}_${version}_"*.deb 2>/dev/null) || die "no $p .deb built"
	debs+=("$f")
done
log "built ${debs[*]##*/}"

lintian_out=$(lintian --pedantic --display-info "$out"/debs/*.changes 2>&1 | grep -v '^running with root privileges' || true)
[ -z "$lintian_out" ] || printf '%s\n' "$lintian_out" | sed 's/^/deb-test: lintian: /'
if grep -q '^E: ' <<<"$lintian_out"; then
	die "lintian reports errors"
fi
log "lintian: $(grep -c '^E: ' <<<"$lintian_out" || true) errors, $(grep -c '^W: ' <<<"$lintian_out" || true) warnings"

did_install=1
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
	--no-install-recommends "${debs[@]}" >"$out/install.log" 2>&1 ||
	{ tail -n 20 "$out/install.log"; die "apt-get install failed"; }
for p in "${pkgs[@]}"; do
	installed "$p" || die "$p not installed after apt-get install"
done
log "installed with apt-get"

for b in "${bins[@]}"; do
	[ -x "/usr/bin/$b" ] || die "/usr/bin/$b missing"
	# Read the whole help first: grep -q stops at the match, and under pipefail
	# the writer's SIGPIPE fails the pipe once the help outgrows one stdio buffer.
	h=$("/usr/bin/$b" --help) || die "$b --help exited $?"
	grep -q "^Usage: $b" <<<"$h" || die "$b --help"
	v=$("/usr/bin/$b" --version)
	[ "$v" = "$b (softlan-vpn) $version" ] || die "$b --version says '$v', not $version"
	[ "$(man -w "$b")" = "/usr/share/man/man8/$b.8.gz" ] || die "man cannot find $b(8)"
done
[ -f /etc/softlan-vpn/relay.conf ] && [ -f /etc/softlan-vpn/gateway.conf.example ] &&
	[ -f /etc/softlan-vpn/client.conf.example ] || die "configuration missing in /etc/softlan-vpn"
unitdir=/lib/systemd/system
for u in lanparty-relay.service lanparty-gateway@eth0.service lanparty-client@lan1.service; do
	o=$(systemd-analyze verify "$unitdir/$u" 2>&1) && [ -z "$o" ] || die "systemd-analyze verify $u: $o"
done
log "binaries run from /usr/bin (--help, --version $version), man pages found, units verify"

DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "${pkgs[@]}" \
	>"$out/purge.log" 2>&1 || { tail -n 20 "$out/purge.log"; die "apt-get purge failed"; }
did_install=0
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
		die "dpkg still knows $p: $(dpkg-query -W -f='${Status}' "$p")"
	fi
	dpkg -s "$p" >/dev/null 2>&1 && die "dpkg -s $p: still installed"
done
left=$(ls -d /usr/bin/lanparty-* /etc/softlan-vpn "$unitdir"/lanparty-* /etc/systemd/system/*/lanparty-* \
	/usr/share/man/man8/lanparty-* 2>/dev/null || true)
[ -z "$left" ] || die "left behind after purge: $left"
log "purged: dpkg -s reports none installed, no file left ($((SECONDS - t0))s)"
