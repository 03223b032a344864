#!/bin/sh
# Runs the benchmarks of a build directory.
#   usage: bench/run.sh [BUILD_DIR] [SECONDS]     (default: build, 3 s per measurement)
# Nothing is pinned to a CPU; run on an otherwise idle machine for stable numbers.
set -eu

build=${1:-build}
seconds=${2:-3}

if [ ! -d "$build" ]; then
	echo "run.sh: build directory '$build' not found (meson setup $build && ninja -C $build)" >&2
	exit 2
fi
ninja -C "$build" src/relay/lanparty-relay bench/relay_forward bench/relay_scale >/dev/null

# ---- relay forwarding cost vs a plain UDP forwarder -------------------------
echo "== relay_forward =="
LP_RELAY_BIN="$build/src/relay/lanparty-relay" "$build/bench/relay_forward" "$seconds"

# ---- relay cost per peer: 2 .. 1,000 peers, broadcast to a room of 32 ---------
echo
echo "== relay_scale =="
LP_RELAY_BIN="$build/src/relay/lanparty-relay" "$build/bench/relay_scale" "$((seconds < 3 ? seconds : 3))"

# ---- the whole tunnel in network namespaces (root) ---------------------------
echo
echo "== lanparty (iperf3 and ping through the tunnel vs the bare veth path) =="
if [ "$(id -u)" -eq 0 ]; then
	ninja -C "$build" src/gateway/lanparty-gateway src/client/lanparty-client \
		tests/netns/udp_probe bench/wakeup_chain >/dev/null
	"$(dirname "$0")/lanparty.sh" "$build" "$((seconds < 5 ? 5 : seconds))"
else
	echo "skipped: needs root (network namespaces)"
fi
