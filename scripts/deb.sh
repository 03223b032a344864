#!/usr/bin/env bash
# `make deb`: the Debian packages (softlan-relay, softlan-gateway,
# softlan-client) built with dpkg-buildpackage -us -uc -b from a copy of the
# working tree's files (tracked and new, not ignored), so no build output of
# the tree leaks in and nothing is written next to the tree.
# Output: build-deb/*.deb, *.changes and *.buildinfo (the copy stays in
# build-deb/src/ until the next run). Env: LP_DEB_OUT (default build-deb),
# DEB_BUILD_OPTIONS as dpkg-buildpackage reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
out=${LP_DEB_OUT:-$top/build-deb}
scripts/deps.sh packaging

version=$(dpkg-parsechangelog -S Version)
rm -rf "$out"
mkdir -p "$out/src/softlan-vpn-$version"
src=$out/src/softlan-vpn-$version
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$src"
# Each package's files land in $out/src: move them up to their known place.
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)")
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
echo "deb: $(cd "$out" && ls ./*.deb | tr '\n' ' ')in $out"
