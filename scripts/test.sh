#!/usr/bin/env bash
# Install what is missing, build out of tree in build/, run every test (make check), and end
# with one line:  N passed, N failed, N skipped
#
#   scripts/test.sh [CONFIGURE-OPTION...]     e.g. scripts/test.sh --enable-sanitizers
#
# The counts are the automake test driver's results (one per test program or script, from
# the .trs files): PASS and XFAIL count as passed, FAIL, ERROR and XPASS as failed, SKIP as
# skipped. A build that fails counts as one failure. Exit status: 0 when nothing failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0
summary_done=no

summary() {
	[ "$summary_done" = no ] || return 0
	summary_done=yes
	echo "$passed passed, $failed failed, $skipped skipped"
}
# Whatever happens, the last line is the summary.
on_exit() {
	local rc=$?
	if [ "$summary_done" = no ]; then
		failed=$((failed + 1))
		summary
	fi
	exit "$rc"
}
trap on_exit EXIT

# A step that must work before any test can run; its failure counts as one failed test.
must() {
	echo "== $*"
	if ! "$@"; then
		echo "test.sh: failed: $*" >&2
		failed=$((failed + 1))
		summary
		exit 1
	fi
}

if ! "$top/scripts/install-deps.sh" --build --test; then
	# Carry on: configure says what is missing for the build, and tests skip (exit 77)
	# when a tool they need is absent.
	echo "test.sh: warning: could not install every dependency; continuing" >&2
fi

cd "$top" || exit 1
must ./autogen.sh
mkdir -p "$build"
cd "$build" || exit 1
must "$top/configure" "$@"
must make -j"$jobs"

# Results of an earlier run (or of tests since removed) must not be counted.
find . -name '*.trs' -delete
find . -name 'test-suite.log' -delete
echo "== make check"
make -j"$jobs" check
check_rc=$?

while IFS= read -r result; do
	case $result in
	PASS | XFAIL) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done < <(find . -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} + | sed 's/[[:space:]].*//')

if [ "$failed" -gt 0 ] && [ -f test-suite.log ]; then
	echo
	echo "== test-suite.log (the failures)"
	cat test-suite.log
fi
# make check failing without a failed test (e.g. a test program that did not build).
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "test.sh: make check failed (exit $check_rc) before reporting a failed test" >&2
	failed=1
fi

summary
[ "$failed" -eq 0 ]
