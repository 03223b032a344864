#!/usr/bin/env bash
# `make check`: every test suite of softlan-vpn, one step at a time, each
# step's output kept in build-logs/<step>.log, and a summary line at the end.
#
# Environment: LP_FUZZ_SECONDS (per fuzz target, default 20),
#              LP_CHECK_ONLY="step step" to run a subset (for developers).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
logs=$top/build-logs
mkdir -p "$logs"

passed=0
failed=0
failed_names=()

want() { [ -z "${LP_CHECK_ONLY:-}" ] || [[ " $LP_CHECK_ONLY " == *" $1 "* ]]; }

# step NAME COMMAND...: runs COMMAND with output to build-logs/NAME.log.
step() {
	local name=$1
	shift
	want "$name" || return 0
	local t0=$SECONDS
	printf '%-12s ... ' "$name"
	if "$@" >"$logs/$name.log" 2>&1; then
		printf 'ok (%ds)\n' $((SECONDS - t0))
		passed=$((passed + 1))
	else
		printf 'FAILED (%ds), last lines of build-logs/%s.log:\n' $((SECONDS - t0)) "$name"
		tail -n 40 "$logs/$name.log" | sed 's/^/    /'
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

setup() { # setup DIR [meson args...]: configure once, reconfigure never needed by ninja
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
}

build_gcc() {
	setup build --werror && ninja -C build
}
test_gcc() {
	meson test -C build --print-errorlogs --no-rebuild --suite unit --suite integration \
		--suite stress
}
# The sanitizer build uses clang, so both compilers build the tree with
# -Werror on every run (the main build is gcc).
sanitize() {
	CC=clang setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all &&
		ninja -C build-asan &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			meson test -C build-asan --print-errorlogs --no-rebuild --suite unit --suite integration
}
fuzz_short() {
	CC=clang setup build-fuzz --werror -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all' &&
		ninja -C build-fuzz && scripts/fuzz.sh build-fuzz "${LP_FUZZ_SECONDS:-20}"
}
format_check() {
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror
}
analyze() {
	# cppcheck over our own code; third-party headers are not ours to lint.
	git ls-files 'lib/*.c' 'src/*.c' |
		grep -v -e '_windows\.c$' -e '_win32\.c$' |
		xargs cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
			--inline-suppr --std=c11 -D__linux__ -D_GNU_SOURCE \
			--suppress=missingIncludeSystem $(for d in lib/*/; do printf -- '-I%s ' "$d"; done) -Ibuild
}

# Man pages against --help, systemd units (verify, ExecStart as the unit's user), the
# Debian packages built, linted, installed and removed, and the Windows bundle when the
# Windows build exists (the windows step made it).
packaging() {
	local rc=0
	meson test -C build --print-errorlogs --no-rebuild --suite packaging || rc=1
	scripts/deb-test.sh || rc=1
	if [ -f build-win/build.ninja ]; then
		scripts/windows-dist.sh check || rc=1
	else
		echo "packaging: no build-win/ (windows step): Windows bundle not checked"
	fi
	return $rc
}

step deps scripts/deps.sh all
step build build_gcc
step tests test_gcc
step sanitizers sanitize
step fuzz fuzz_short
step format format_check
step analyzer analyze
if [ -x tests/netns/run.sh ]; then
	# A private room (invites, sealed frames, receivers' filters), with open
	# rooms where they matter (tests/netns/run.sh says which); one run, not two.
	step netns tests/netns/run.sh
fi
if [ -x tests/netns/impaired.sh ]; then
	step impaired tests/netns/impaired.sh
fi
if [ -x scripts/windows.sh ]; then
	step windows scripts/windows.sh check
fi
step packaging packaging

echo
if [ $failed -gt 0 ]; then
	echo "failed steps: ${failed_names[*]} (logs in build-logs/)"
fi
echo "check: $passed passed, $failed failed"
[ $failed -eq 0 ]
