#!/usr/bin/env bash
# `make windows-dist`: the Windows bundle build-win/softlan-vpn-windows-VERSION.zip
#   lanparty-client-win.exe     stripped copy of build-win's .exe
#   README.txt, join-party.cmd  dist/windows/ (CRLF): driver, invite, first run, troubleshooting
#   lanparty-client-win.txt     the man page as text (CRLF)
#   SOURCES.txt                 where the source of everything in the .exe is (GPL: wolfSSL)
#   licenses/                   softlan-vpn's LICENSE and the Debian copyright files of what
#                               the .exe links statically: wolfSSL (+ the GPL-2 text), ngtcp2,
#                               Jansson, the mingw-w64 runtime/winpthreads, the GCC runtime
# The libraries' copyright files are those of the exact Debian source versions the mingw
# prefix was built from (scripts/mingw-deps.sh names the prefix after them): from this
# machine's /usr/share/doc when the same source version is installed, else from that source
# package's debian.tar.xz, fetched by apt (checksum-verified) and cached in build-win/.
#
# Usage: scripts/windows-dist.sh build   build-win (scripts/windows.sh build), then the zip
#        scripts/windows-dist.sh check   build, then check the zip: its file list, CRLF text
#                                        files, licence texts, the .exe's --help under Wine,
#                                        and the bundled man page against that --help
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bdir=${LP_WIN_BUILD:-$top/build-win}
t0=$SECONDS
log() { printf 'windows-dist: [%3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { log "FAIL: $*"; exit 1; }
export WINEPREFIX=$bdir/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=

crlf() { sed 's/\r$//; s/$/\r/' "$1" >"$2"; }

# copyright_of SRCPKG VERSION OUT: Debian's copyright file of that source version.
copyright_of() {
	local src=$1 ver=$2 out=$3 bin cache uri name size hash
	local -a sandbox=()
	while read -r bin; do
		[ -f "/usr/share/doc/$bin/copyright" ] || continue
		cp "/usr/share/doc/$bin/copyright" "$out"
		return 0
	done < <(dpkg-query -W -f='${binary:Package} ${source:Package} ${source:Version} ${db:Status-Status}\n' 2>/dev/null |
		awk -v s="$src" -v v="$ver" '$2 == s && $3 == v && $4 == "installed" { sub(/:.*/, "", $1); print $1 }')
	cache=$bdir/dist-cache/${src}_$ver
	if [ ! -s "$cache/copyright" ]; then
		mkdir -p "$cache"
		read -r uri name size hash < <(apt-get source --print-uris -qq "$src=$ver" 2>/dev/null |
			grep -F '.debian.tar.' | tr -d "'") ||
			die "apt knows no source package $src=$ver (deb-src entries: scripts/mingw-deps.sh adds them)"
		log "fetching Debian's copyright of $src $ver ($name, $size bytes)"
		# As root, apt's download sandbox user cannot write here.
		[ "$(id -u)" != 0 ] || sandbox=(-o APT::Sandbox::User=root)
		/usr/lib/apt/apt-helper "${sandbox[@]}" -qq download-file "$uri" "$cache/$name" "$hash" >/dev/null ||
			die "cannot download $name"
		tar -xOf "$cache/$name" debian/copyright >"$cache/copyright" || die "$name has no debian/copyright"
		rm -f "$cache/$name"
	fi
	cp "$cache/copyright" "$out"
}

build() {
	local exe prefix pdir sources wolfssl_v ngtcp2_v jansson_v version commit stage zip
	scripts/deps.sh packaging || die "missing packages (zip, jq, man-db, bsdextrautils)"
	scripts/windows.sh build >/dev/null || die "scripts/windows.sh build failed"
	# The man page's roff comes from the Linux build (scdoc).
	{ [ -f build/build.ninja ] || meson setup build >/dev/null; } &&
		ninja -C build man/lanparty-client-win.8 >/dev/null || die "cannot build the man page"
	exe=$bdir/src/client-win/lanparty-client-win.exe
	[ -f "$exe" ] || die "no $exe"
	prefix=$(cat "$bdir/.mingw-prefix")
	pdir=$(basename "$(dirname "$prefix")")
	# WOLFSSL_NGTCP2_JANSSON_CMOCKA[_rN]: Debian versions never contain "_".
	IFS=_ read -r wolfssl_v ngtcp2_v jansson_v _ <<<"$pdir"
	version=$(meson introspect "$bdir" --projectinfo | jq -r .version)
	commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		commit="$commit (with local changes)"
	fi

	stage=$bdir/dist/softlan-vpn-windows-$version
	rm -rf "$bdir/dist"
	mkdir -p "$stage/licenses"
	x86_64-w64-mingw32-strip -o "$stage/lanparty-client-win.exe" "$exe"
	sed "s/@VERSION@/$version/g" dist/windows/README.txt >"$stage/README.tmp"
	crlf "$stage/README.tmp" "$stage/README.txt"
	crlf dist/windows/join-party.cmd "$stage/join-party.cmd"
	MANWIDTH=78 man -l "$top/build/man/lanparty-client-win.8" 2>/dev/null | col -bx >"$stage/man.tmp" ||
		die "cannot render build/man/lanparty-client-win.8"
	[ -s "$stage/man.tmp" ] || die "empty man page text"
	crlf "$stage/man.tmp" "$stage/lanparty-client-win.txt"
	sources=$(printf '    %-8s %s\n' wolfssl "$wolfssl_v" ngtcp2 "$ngtcp2_v" jansson "$jansson_v")
	awk -v v="$version" -v c="$commit" -v s="$sources" \
		-v m="$(dpkg-query -W -f='${Version}' mingw-w64-x86-64-dev)" \
		-v g="$(dpkg-query -W -f='${Version}' gcc-mingw-w64-x86-64-win32)" \
		'{ gsub(/@VERSION@/, v); gsub(/@COMMIT@/, c); gsub(/@MINGW_VERSION@/, m);
		   gsub(/@GCC_VERSION@/, g); if ($0 == "@SOURCES@") print s; else print }' \
		dist/windows/SOURCES.txt >"$stage/SOURCES.tmp"
	crlf "$stage/SOURCES.tmp" "$stage/SOURCES.txt"
	rm -f "$stage"/*.tmp

	local l=$stage/licenses
	cp LICENSE "$l/softlan-vpn-MIT.tmp"
	copyright_of wolfssl "$wolfssl_v" "$l/wolfssl-copyright.tmp"
	cp /usr/share/common-licenses/GPL-2 "$l/GPL-2.tmp"
	copyright_of ngtcp2 "$ngtcp2_v" "$l/ngtcp2-copyright.tmp"
	copyright_of jansson "$jansson_v" "$l/jansson-copyright.tmp"
	cp /usr/share/doc/mingw-w64-x86-64-dev/copyright "$l/mingw-w64-runtime-copyright.tmp"
	cp /usr/share/doc/gcc-mingw-w64-x86-64-win32/copyright "$l/gcc-runtime-copyright.tmp"
	for f in "$l"/*.tmp; do
		crlf "$f" "${f%.tmp}.txt"
	done
	rm -f "$l"/*.tmp

	zip=$bdir/softlan-vpn-windows-$version.zip
	rm -f "$zip"
	(cd "$bdir/dist" && TZ=UTC zip -q -X -r "$zip" "softlan-vpn-windows-$version")
	log "wrote $zip ($(stat -c %s "$zip") bytes)"
	printf '%s\n' "$zip" >"$bdir/dist/zip-path"
}

check() {
	local zip version tmp root f expect got v
	build
	zip=$(cat "$bdir/dist/zip-path")
	version=$(meson introspect "$bdir" --projectinfo | jq -r .version)
	root=softlan-vpn-windows-$version
	expect=$(printf '%s\n' "$root/" "$root/README.txt" "$root/SOURCES.txt" "$root/join-party.cmd" \
		"$root/lanparty-client-win.exe" "$root/lanparty-client-win.txt" "$root/licenses/" \
		"$root/licenses/GPL-2.txt" "$root/licenses/gcc-runtime-copyright.txt" \
		"$root/licenses/jansson-copyright.txt" "$root/licenses/mingw-w64-runtime-copyright.txt" \
		"$root/licenses/ngtcp2-copyright.txt" "$root/licenses/softlan-vpn-MIT.txt" \
		"$root/licenses/wolfssl-copyright.txt" | sort)
	got=$(zipinfo -1 "$zip" | sort)
	[ "$got" = "$expect" ] || die "zip contents differ:
$(diff <(echo "$expect") <(echo "$got"))"
	tmp=$(mktemp -d /tmp/lp-windist.XXXXXX)
	trap 'rm -rf "$tmp"' RETURN
	unzip -q "$zip" -d "$tmp"
	for f in $(cd "$tmp/$root" && find . -name '*.txt' -o -name '*.cmd'); do
		f=$tmp/$root/${f#./}
		[ -s "$f" ] || die "${f#$tmp/} is empty"
		# Every line ends in CRLF: no LF without CR before it, and the file ends in CRLF.
		if LC_ALL=C grep -q $'[^\r]$' "$f" || LC_ALL=C grep -q '^$' "$f" ||
			[ "$(tail -c 2 "$f" | od -An -tx1 | tr -d ' ')" != 0d0a ]; then
			die "${f#$tmp/} is not CRLF throughout"
		fi
	done
	grep -q "GNU GENERAL PUBLIC LICENSE" "$tmp/$root/licenses/GPL-2.txt" || die "GPL-2 text missing"
	grep -qi "wolfssl" "$tmp/$root/licenses/wolfssl-copyright.txt" || die "wolfSSL copyright missing"
	grep -q "Upstream-Name: ngtcp2" "$tmp/$root/licenses/ngtcp2-copyright.txt" || die "ngtcp2 copyright"
	grep -qi "jansson" "$tmp/$root/licenses/jansson-copyright.txt" || die "Jansson copyright"
	grep -q "Permission is hereby granted" "$tmp/$root/licenses/softlan-vpn-MIT.txt" || die "MIT text"
	grep -q "TAP-Windows6" "$tmp/$root/README.txt" || die "README.txt lacks the driver section"
	grep -q "@" <(grep -o '@[A-Z_]*@' "$tmp/$root/README.txt" "$tmp/$root/SOURCES.txt") &&
		die "unreplaced placeholders in README.txt or SOURCES.txt"
	log "zip: $(echo "$got" | wc -l) entries as expected, text files CRLF, licence texts present"

	# The bundled .exe, not build-win's: it must run on its own.
	mkdir -p "$WINEPREFIX"
	wine "$tmp/$root/lanparty-client-win.exe" --help >"$tmp/help.txt" 2>&1 ||
		{ cat "$tmp/help.txt"; die "bundled .exe --help failed under Wine"; }
	grep -q '^Usage: lanparty-client-win' <(tr -d '\r' <"$tmp/help.txt") ||
		{ cat "$tmp/help.txt"; die "bundled .exe --help printed no usage"; }
	v=$(wine "$tmp/$root/lanparty-client-win.exe" --version 2>&1 | tr -d '\r')
	[ "$v" = "lanparty-client-win (softlan-vpn) $version" ] || die "--version says '$v'"
	tests/packaging/man-flags.sh man/lanparty-client-win.8.scd wine "$tmp/$root/lanparty-client-win.exe" ||
		die "man/lanparty-client-win.8.scd and the .exe's --help differ"
	log "bundled .exe runs --help and --version under Wine; its man page covers every flag"
}

case ${1:-} in
build) build ;;
check) check && log "all checks passed ($((SECONDS - t0))s)" ;;
*)
	echo "usage: $0 build|check" >&2
	exit 2
	;;
esac
