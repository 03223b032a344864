#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS each, starting from
# its committed seed corpus. New inputs go to a scratch corpus, never into the
# repository; a crash leaves its reproducer in build-logs/fuzz-artifacts/.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?build dir}
secs=${2:?seconds}
art=$PWD/build-logs/fuzz-artifacts
mkdir -p "$art"
status=0
n=0
for exe in "$dir"/fuzz/fuzz_*; do
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=${exe##*/fuzz_}
	seeds=fuzz/corpus/$name
	scratch=$dir/fuzz-corpus/$name
	mkdir -p "$scratch"
	[ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus in $seeds"; status=1; continue; }
	echo "fuzz: $name for ${secs}s"
	if ! "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/$name-" "$scratch" "$seeds" 2>&1 | tail -n 12; then
		echo "fuzz: $name FAILED (reproducer in $art)"
		status=1
	fi
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "fuzz: no targets built in $dir"; exit 1; }
echo "fuzz: $n targets run"
exit $status
