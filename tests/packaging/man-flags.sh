#!/usr/bin/env bash
# man-flags.sh PAGE.scd PROGRAM [ARGS...]: every flag PROGRAM's --help lists
# (an option line "  --flag ...") has an entry ("*--flag*" at the start of a
# line) in the scdoc man page, and every entry is a flag of --help, so the
# page can neither miss a new flag nor keep a removed one. PROGRAM may be a
# command with arguments (e.g. wine lanparty-client-win.exe).
set -euo pipefail
page=$1
shift
help=$("$@" --help | tr -d '\r')
[ -n "$help" ] || { echo "man-flags: '$*' --help printed nothing" >&2; exit 1; }
# Option lines start with two spaces and the flag.
mapfile -t flags < <(printf '%s\n' "$help" | sed -n 's/^  \(--[a-z0-9][a-z0-9-]*\).*/\1/p' | sort -u)
mapfile -t entries < <(sed -n 's/^\*\(--[a-z0-9][a-z0-9-]*\)\*.*/\1/p' "$page" | sort -u)
if [ ${#flags[@]} -lt 3 ]; then
	echo "man-flags: found only ${#flags[@]} flags in the --help of '$*'" >&2
	exit 1
fi
rc=0
missing=$(comm -23 <(printf '%s\n' "${flags[@]}") <(printf '%s\n' "${entries[@]}"))
stale=$(comm -13 <(printf '%s\n' "${flags[@]}") <(printf '%s\n' "${entries[@]}"))
if [ -n "$missing" ]; then
	echo "man-flags: $page lacks an entry for: $(echo $missing)" >&2
	rc=1
fi
if [ -n "$stale" ]; then
	echo "man-flags: $page documents flags --help does not list: $(echo $stale)" >&2
	rc=1
fi
[ $rc -ne 0 ] || echo "man-flags: $page documents all ${#flags[@]} flags of $(basename "${@: -1}")"
exit $rc
