#!/usr/bin/env bash
# Cross-builds the Windows client's libraries (static, x86_64-w64-mingw32) from Debian's own
# source packages, so Windows gets the same upstream versions and Debian's security patches as
# the Linux binaries: wolfSSL + ngtcp2 (QUIC), Jansson (control messages) and cmocka (unit tests
# under Wine). Debian ships no mingw builds of any of them.
#
# Usage: scripts/mingw-deps.sh                  build if needed; last stdout line "prefix: DIR"
#        scripts/mingw-deps.sh --print-prefix   build if needed; stdout is DIR only
# Progress always goes to stderr. Layout of DIR:
#   include/{ngtcp2,wolfssl}/ include/{jansson,jansson_config,cmocka}.h
#   lib/libngtcp2.a lib/libngtcp2_crypto_wolfssl.a lib/libwolfssl.a lib/libjansson.a lib/libcmocka.a
#   lib/pkgconfig/*.pc   (use PKG_CONFIG_LIBDIR=DIR/lib/pkgconfig pkg-config --static ...)
#   meson-deps.ini       (second --cross-file after build-aux/mingw-w64.ini)
# Consumers must compile with -DNGTCP2_STATICLIB (the .pc files carry it) and link -lws2_32.
# Env: LP_MINGW_CACHE (default /var/cache/softlan-vpn/mingw), LP_MINGW_JOBS (default 2).
set -euo pipefail

HOST=x86_64-w64-mingw32
# Bump when the configure flags below change: old caches then no longer match the stamp.
# The recipe is part of the cache directory's name, so branches on different recipes (merged
# or not yet) each keep their own build instead of rebuilding over each other's.
RECIPE=5
CACHE_ROOT=${LP_MINGW_CACHE:-/var/cache/softlan-vpn/mingw}
JOBS=${LP_MINGW_JOBS:-2}

log() { printf 'mingw-deps: [%3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

print_only=0
case ${1:-} in
  --print-prefix) print_only=1 ;;
  '') ;;
  *) die "usage: $0 [--print-prefix]" ;;
esac

finish() {
  if [ "$print_only" = 1 ]; then printf '%s\n' "$1"; else printf 'prefix: %s\n' "$1"; fi
  exit 0
}

SRC_PKGS=(wolfssl ngtcp2 jansson cmocka)

# "WOLFSSL_V NGTCP2_V JANSSON_V CMOCKA_V", each the newest over all suites (bookworm, -updates,
# -security): what apt-get source fetches. A single apt-cache call keeps the cached path fast.
src_versions() {
  apt-cache showsrc --only-source "${SRC_PKGS[@]}" 2>/dev/null |
    awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' |
    { declare -A best=(); while read -r p v; do
        if [ -z "${best[$p]:-}" ] || dpkg --compare-versions "$v" gt "${best[$p]}"; then
          best[$p]=$v
        fi
      done
      for p in "${SRC_PKGS[@]}"; do [ -n "${best[$p]:-}" ] || exit 1; done
      printf '%s %s %s %s' "${best[wolfssl]}" "${best[ngtcp2]}" "${best[jansson]}" \
        "${best[cmocka]}"; }
}

# apt-cache showsrc needs deb-src entries, which minimal images and CI runners lack. Mirror the
# existing binary entries of this release rather than naming a mirror, so proxies keep working.
ensure_deb_src() {
  versions=$(src_versions) && return 0
  [ "$(id -u)" = 0 ] || return 1
  local codename out=/etc/apt/sources.list.d/softlan-vpn-src
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}")
  log "adding deb-src entries for $codename"
  awk -v c="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
    $0 ~ ("Suites:[^\n]*[ \t]" c "([- \t\n]|$)") && $0 ~ /Types:[^\n]*deb([ \t\n]|$)/ &&
    $0 !~ /Enabled:[ \t]*no/ {
      gsub(/(^|\n)#[^\n]*/, ""); sub(/Types:[^\n]*/, "Types: deb-src"); sub(/^\n/, ""); print
    }' /dev/null /etc/apt/sources.list.d/*.sources > "$out.sources" 2>/dev/null || true
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n "s/^[[:space:]]*deb\([[:space:]].*[[:space:]]${codename}[-[:alnum:]]*[[:space:]]\)/deb-src\1/p" \
    > "$out.list"
  [ -s "$out.sources" ] || rm -f "$out.sources"
  [ -s "$out.list" ] || rm -f "$out.list"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  versions=$(src_versions)
}

# Newest finished build, for non-root machines without deb-src: better than failing outright.
fallback_prefix() {
  local s found=
  for s in "$CACHE_ROOT"/*/.stamp; do
    [ -f "$s" ] && [ "$(cat "$s")" = "recipe $RECIPE" ] && found=${s%/.stamp}/prefix
  done
  [ -n "$found" ] && printf '%s' "$found"
}

versions=
if ! ensure_deb_src; then
  p=$(fallback_prefix) || true
  [ -n "$p" ] || die "no deb-src entries for this release; run once as root (it adds them)"
  log "warning: no deb-src entries (not root), using existing build $p"
  finish "$p"
fi

read -r wolfssl_v ngtcp2_v jansson_v cmocka_v <<<"$versions"
# Colons (epochs) would break make rules that mention the path.
vkey=${versions//[: ]/_}
dir="$CACHE_ROOT/${vkey}_r$RECIPE"
prefix="$dir/prefix"
[ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "recipe $RECIPE" ] && finish "$prefix"

# Tool -> Debian package. wolfSSL and ngtcp2 use autotools (wolfSSL 5.5.4's CMake build has no
# QUIC option); Jansson's Debian tarball has no configure script and cmocka is CMake-only.
missing=
for pair in x86_64-w64-mingw32-gcc:mingw-w64 dpkg-source:dpkg-dev autoreconf:autoconf \
  automake:automake libtoolize:libtool pkg-config:pkg-config make:make cmake:cmake; do
  command -v "${pair%%:*}" >/dev/null || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || die "missing packages:$missing (apt-get install$missing)"
  log "installing:$missing"
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi

mkdir -p "$CACHE_ROOT" 2>/dev/null || true
[ -w "$CACHE_ROOT" ] ||
  die "cannot write $CACHE_ROOT: set LP_MINGW_CACHE to a writable directory"
# Parallel make jobs may all ask for the prefix; only one builds, the others wait and reuse it.
exec 9>"$CACHE_ROOT/.lock"
flock 9
[ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "recipe $RECIPE" ] && finish "$prefix"

rm -rf "$dir"
mkdir -p "$dir/src"
cd "$dir/src"
log "fetching sources wolfssl $wolfssl_v, ngtcp2 $ngtcp2_v, jansson $jansson_v, cmocka $cmocka_v"
# As root, apt's download sandbox user cannot write here; the warning it prints is noise.
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
apt-get "${sandbox[@]}" source -qq --download-only "wolfssl=$wolfssl_v" "ngtcp2=$ngtcp2_v" \
  "jansson=$jansson_v" "cmocka=$cmocka_v" >&2
# Unpacking through dpkg-source applies Debian's patches (the CVE fixes are the point).
# The signature cannot be checked without debian-keyring; apt already verified the checksums.
for p in "${SRC_PKGS[@]}"; do
  dpkg-source -q -x "$p"_*.dsc "$p" >/dev/null 2>&1 || die "dpkg-source -x $p failed"
done

# Jansson and cmocka (CMake) build while wolfSSL and ngtcp2 (autotools, mostly serial
# configure scripts) do: on two cores that hides most of their time.
build_cmake_deps() {
  # Release: Jansson's Windows debug builds would be named libjansson_d.a, which its .pc
  # file does not match.
  local cmake_cross=(-DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER="$HOST-gcc"
    -DCMAKE_RC_COMPILER="$HOST-windres" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib)

  log "building Jansson (static) for $HOST"
  cd "$dir/src/jansson"
  { cmake -S . -B _build "${cmake_cross[@]}" -DJANSSON_BUILD_SHARED_LIBS=OFF \
      -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF &&
    cmake --build _build -j 1 && cmake --install _build; } >build.log 2>&1 ||
    die "Jansson build failed, see $PWD/build.log"

  log "building cmocka (static) for $HOST"
  cd "$dir/src/cmocka"
  # C99 printf (%zu) in cmocka's messages, as in our code (-D__USE_MINGW_ANSI_STDIO=1).
  { cmake -S . -B _build "${cmake_cross[@]}" -DCMAKE_C_FLAGS=-D__USE_MINGW_ANSI_STDIO=1 \
      -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF &&
    cmake --build _build -j 1 && cmake --install _build; } >build.log 2>&1 ||
    die "cmocka build failed, see $PWD/build.log"
  # cmocka 1.1.5 always builds its DLL; WITH_STATIC_LIB adds libcmocka-static.a. Tests must
  # not need a DLL next to them under Wine, so the static archive takes the name cmocka.pc
  # links.
  rm -f "$prefix/lib/libcmocka.dll.a"
  mv "$prefix/lib/libcmocka-static.a" "$prefix/lib/libcmocka.a"
  # Its printf-like functions are declared with the "printf" format, which mingw's GCC reads
  # as the MS one (no %zu): with ANSI stdio they take the GNU one.
  sed -i 's/__format__ (__printf__, a, b)/__format__ (__gnu_printf__, a, b)/' \
    "$prefix/include/cmocka.h"
}
( build_cmake_deps ) &
cmake_pid=$!
trap 'kill "$cmake_pid" 2>/dev/null || true' EXIT

log "building wolfSSL (static, QUIC) for $HOST"
cd "$dir/src/wolfssl"
# autogen.sh, not bare autoreconf: it creates the placeholder files Makefile.am expects.
./autogen.sh >build.log 2>&1 || die "wolfSSL autogen failed, see $PWD/build.log"
# --enable-quic implies opensslextra (ngtcp2 uses the EVP API), aesctr (header protection),
# alpn and sni; the rest is what ngtcp2's crypto/wolfssl calls, plus what private rooms need:
# Ed25519 (admission and host proofs, lib/room) and keying-material (the TLS exporter the
# proofs are bound to). DH, pre-1.2 TLS and OS CA
# stores are off: QUIC is TLS 1.3 with ECDHE, and the client pins the relay's certificate.
./configure --host="$HOST" --prefix="$prefix" --enable-static --disable-shared \
  --enable-quic --enable-tls13 --enable-session-ticket --enable-hkdf --enable-aesgcm \
  --enable-aesctr --enable-alpn --enable-sni --enable-earlydata \
  --enable-ed25519 --enable-keying-material \
  --disable-oldtls --disable-dh --disable-sys-ca-certs \
  --disable-examples --disable-crypttests --disable-benchmark >>build.log 2>&1 ||
  die "wolfSSL configure failed, see $PWD/build.log"
{ make -j"$JOBS" && make install; } >>build.log 2>&1 ||
  die "wolfSSL build failed, see $PWD/build.log"

log "building ngtcp2 (static, crypto/wolfssl) for $HOST"
cd "$dir/src/ngtcp2"
autoreconf -fi >build.log 2>&1 || die "ngtcp2 autoreconf failed, see $PWD/build.log"
# Autotools rather than CMake: CMake names static libs libngtcp2_static.a, which its own .pc
# files do not match. PKG_CONFIG_LIBDIR keeps host (Linux) libev/CUnit/OpenSSL out.
./configure --host="$HOST" --prefix="$prefix" --enable-static --disable-shared --enable-lib-only \
  --with-wolfssl --without-openssl --without-gnutls --without-boringssl --without-picotls \
  --without-libev --without-libnghttp3 --without-jemalloc --without-cunit \
  PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH= >>build.log 2>&1 ||
  die "ngtcp2 configure failed, see $PWD/build.log"
{ make -j"$JOBS" && make install; } >>build.log 2>&1 ||
  die "ngtcp2 build failed, see $PWD/build.log"

wait "$cmake_pid" || die "Jansson/cmocka build failed"

# Without NGTCP2_STATICLIB, ngtcp2.h declares everything dllimport and the link fails with
# "undefined reference to __imp_ngtcp2_...". wolfssl.pc omits the Winsock library it needs.
cd "$prefix/lib/pkgconfig"
sed -i 's/^Cflags: .*/& -DNGTCP2_STATICLIB/' libngtcp2.pc libngtcp2_crypto_wolfssl.pc
printf 'Requires.private: libngtcp2 wolfssl\n' >>libngtcp2_crypto_wolfssl.pc
printf 'Libs.private: -lws2_32\n' >>wolfssl.pc
# Second Meson cross file (see build-aux/mingw-w64.ini): the path is only known here.
printf "[properties]\npkg_config_libdir = ['%s']\n" "$prefix/lib/pkgconfig" >"$prefix/meson-deps.ini"
rm -rf "${prefix:?}"/lib/*.la "${prefix:?}/bin" "${prefix:?}/share" "${prefix:?}/cmake" \
  "${prefix:?}/lib/cmake" "${dir:?}/src"

printf 'recipe %s\n' "$RECIPE" >"$dir/.stamp"
# Older Debian versions are dead weight once the new one is built; other recipes of the same
# versions may still be in use by a branch that has not moved to this one.
for old in "$CACHE_ROOT"/*/.stamp; do
  case ${old%/.stamp} in
    "$CACHE_ROOT/$vkey" | "$CACHE_ROOT/${vkey}_r"*) ;;
    *) rm -rf "${old%/.stamp}" ;;
  esac
done
log "done"
finish "$prefix"
