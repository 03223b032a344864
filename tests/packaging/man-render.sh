#!/usr/bin/env bash
# man-render.sh PAGE.8...: each roff page renders with man(1) at 80 columns
# without a single warning from groff (-ww through man --warnings), and has
# the sections every page of softlan-vpn carries.
set -euo pipefail
rc=0
for page in "$@"; do
	warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		echo "man-render: $page: $warnings" >&2
		rc=1
	fi
	text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS FILES 'EXIT STATUS' EXAMPLES; do
		if ! grep -qx "$s" <<<"$text"; then
			echo "man-render: $page has no $s section" >&2
			rc=1
		fi
	done
	# Lines wider than the terminal mean an unbreakable literal line.
	wide=$(awk 'length > 80' <<<"$text")
	if [ -n "$wide" ]; then
		echo "man-render: $page renders lines over 80 columns:" >&2
		echo "$wide" >&2
		rc=1
	fi
done
[ $rc -ne 0 ] || echo "man-render: $# pages render cleanly"
exit $rc
