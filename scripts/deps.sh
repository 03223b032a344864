#!/usr/bin/env bash
# Installs the Debian packages softlan-vpn needs, and only the missing ones.
# Usage: scripts/deps.sh [base|windows|packaging|all]   (default: all)
set -euo pipefail

base_pkgs=(
	gcc clang make meson ninja-build pkg-config
	libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev gnutls-bin
	libjansson-dev libcmocka-dev scdoc
	libclang-rt-14-dev clang-format cppcheck
	iproute2 dnsmasq-base iperf3 busybox iputils-ping ethtool procps psmisc
)
windows_pkgs=(mingw-w64 wine wine64 dpkg-dev zip)
# make install, make deb and the packaging suite: man pages, Debian packages, units.
packaging_pkgs=(scdoc man-db groff-base bsdextrautils debhelper dpkg-dev fakeroot lintian systemd
	zip unzip jq git util-linux apt)

want=()
case "${1:-all}" in
base) want=("${base_pkgs[@]}") ;;
windows) want=("${windows_pkgs[@]}") ;;
packaging) want=("${packaging_pkgs[@]}") ;;
all) want=("${base_pkgs[@]}" "${windows_pkgs[@]}" "${packaging_pkgs[@]}") ;;
*) echo "usage: $0 [base|windows|packaging|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	# dpkg-query exits 0 for removed-but-configured packages too, so check the status text.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "softlan-vpn needs these Debian packages: ${missing[*]}" >&2
	echo "Run this as root (or: sudo apt-get install ${missing[*]})." >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An apt cache that was never filled, or is older than a day, is refreshed first.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
	apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
