# tests/lib.sh — shared helpers for the integration tests (POSIX sh; sourced, not run).
#
# A test script does:   . "$top_srcdir/tests/lib.sh"
# and gets: $TMP (a private directory removed on exit), fail/skip, assertions that print
# what was expected and what came instead, start_proxyd (remembers the pid; on exit only
# the processes this test started are stopped), bounded waits, and a free-port picker.
#
# make check provides PROXYD, FIXTURE_DIR, top_srcdir and top_builddir (tests/Makefile.inc).
# By hand, from a build directory:
#   top_srcdir=/path/to/src top_builddir=$PWD PROXYD=$PWD/proxyd \
#     FIXTURE_DIR=$PWD/tests/fixtures/.libs sh /path/to/src/tests/integration/version.sh
# PROXYD_TEST_KEEP=1 keeps the temporary directory for a look afterwards.
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error (broken set-up).

TEST_NAME=$(basename "$0" .sh)

for _v in PROXYD FIXTURE_DIR top_srcdir top_builddir; do
	eval "_val=\${$_v:-}"
	if [ -z "$_val" ]; then
		echo "ERROR: $TEST_NAME: \$$_v is not set (run through 'make check', or see tests/lib.sh)" >&2
		exit 99
	fi
done
if [ ! -x "$PROXYD" ]; then
	echo "ERROR: $TEST_NAME: PROXYD=$PROXYD is not an executable" >&2
	exit 99
fi
unset _v _val

# A user's own environment must not change what the tests see.
unset PROXYD_PLUGIN_PATH
LC_ALL=C
export LC_ALL

STARTED_PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/proxyd-$TEST_NAME.XXXXXX") || {
	echo "ERROR: $TEST_NAME: cannot create a temporary directory" >&2
	exit 99
}
# Symlink-free, because proxyd prints configuration paths after realpath().
TMP=$(cd "$TMP" && pwd -P)

_cleanup() {
	_rc=$?
	for _p in $STARTED_PIDS; do
		if kill -0 "$_p" 2>/dev/null; then
			kill -TERM "$_p" 2>/dev/null
			_i=0
			while alive "$_p" && [ $_i -lt 30 ]; do
				sleep 0.1
				_i=$((_i + 1))
			done
			if alive "$_p"; then
				echo "$TEST_NAME: pid $_p ignored SIGTERM for 3 s; killing it" >&2
				kill -KILL "$_p" 2>/dev/null
			fi
		fi
	done
	# A sanitizer build (--enable-sanitizers) reports into the daemons' logs: any report
	# fails the test, even one that passed otherwise.
	if grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$TMP"/*.log \
		>"$TMP/.sanitizer" 2>/dev/null; then
		echo "FAIL: $TEST_NAME: sanitizer report in $(tr '\n' ' ' <"$TMP/.sanitizer")" >&2
		grep -hE -A12 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' \
			$(cat "$TMP/.sanitizer") | head -60 >&2
		[ "$_rc" -eq 0 ] && _rc=1
	fi
	release_ports
	# A failed test shows the end of every log it made: the daemon that died is often not
	# the one whose log the failed check printed.
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 77 ]; then
		for _l in "$TMP"/*.log; do
			[ -f "$_l" ] || continue
			echo "--- last lines of ${_l##*/}" >&2
			tail -n 12 "$_l" >&2
		done
	fi
	if [ -n "${PROXYD_TEST_KEEP:-}" ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $_rc
}
trap _cleanup EXIT
trap 'exit 1' HUP INT TERM

# ---- results ----

# fail WHAT [EXPECTED [GOT]]: report and exit 1. GOT may be several lines.
fail() {
	{
		echo "FAIL: $TEST_NAME: $1"
		if [ $# -ge 2 ]; then
			echo "  expected: $2"
		fi
		if [ $# -ge 3 ]; then
			echo "  got:"
			printf '%s\n' "$3" | sed 's/^/    | /'
		fi
	} >&2
	exit 1
}

skip() {
	echo "SKIP: $TEST_NAME: $1" >&2
	exit 77
}

# Print a step, so a failure's log shows how far the test got.
step() {
	echo "--- $*"
}

# require_cmd CMD...: skip the whole test when a tool it needs is missing.
require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip "'$_c' is not installed (scripts/install-deps.sh --test)"
	done
}

# ---- assertions ----

assert_eq() { # WHAT EXPECTED GOT
	[ "$2" = "$3" ] || fail "$1" "$2" "$3"
}

assert_exit() { # WHAT EXPECTED-CODE GOT-CODE [OUTPUT-FILE...]
	_what=$1 _want=$2 _got=$3
	shift 3
	if [ "$_want" != "$_got" ]; then
		fail "$_what" "exit code $_want" "exit code $_got$(for _f in "$@"; do printf '\n[%s]\n' "${_f##*/}"; cat "$_f"; done)"
	fi
}

# assert_contains WHAT FILE SUBSTRING: the file has a line containing SUBSTRING (literally).
assert_contains() {
	grep -qF -- "$3" "$2" || fail "$1" "a line containing: $3" "$(cat "$2")"
}

assert_not_contains() {
	if grep -qF -- "$3" "$2"; then
		fail "$1" "no line containing: $3" "$(cat "$2")"
	fi
}

# assert_matches WHAT FILE ERE: a line matches the extended regular expression.
assert_matches() {
	grep -qE -- "$3" "$2" || fail "$1" "a line matching /$3/" "$(cat "$2")"
}

# check_bad_config SRC [PROXYD-ARGS...]: SRC (a .conf whose "# expect: LINE: MESSAGE" comments
# say what is wrong with it) is copied into $TMP and checked with proxyd -t ARGS: it must exit
# 1 and report exactly those errors, each at its line (no knock-on noise, none missing), and
# count them in its summary. config_errors.sh, quic_config.sh and peer_config.sh run their
# tests/configs/bad-*/ files through it.
check_bad_config() {
	_src=$1
	shift
	[ -f "$_src" ] || fail "bad configuration $_src" "a .conf file" "none"
	_name=${_src##*/}
	step "$_name"
	_conf=$TMP/$_name
	cp "$_src" "$_conf"
	sed -n 's/^# expect: //p' "$_conf" >"$TMP/expect"
	_n_expect=$(wc -l <"$TMP/expect")
	[ "$_n_expect" -gt 0 ] || fail "$_name has expectations" "'# expect: LINE: message' comments" \
		"$(cat "$_conf")"
	run_proxyd "$TMP/out" "$TMP/err" -t -c "$_conf" "$@"
	assert_exit "proxyd -t -c $_name" 1 "$RC" "$TMP/out" "$TMP/err"
	assert_not_contains "$_name is not OK" "$TMP/out" "configuration OK"
	while IFS= read -r _e; do
		_line=${_e%%:*}
		_msg=${_e#*: }
		case $_line in
		'' | *[!0-9]*) fail "$_name: expectation '$_e'" "# expect: LINE: message" "$_e" ;;
		esac
		# The message is reported at its line, whatever else the line says around it.
		grep -F -- "$_conf:$_line: " "$TMP/err" | grep -qF -- "$_msg" ||
			fail "$_name: error reported at line $_line" "$_conf:$_line: ...$_msg..." "$(cat "$TMP/err")"
	done <"$TMP/expect"
	_n_got=$(grep -c "^$_conf:[0-9][0-9]*: " "$TMP/err")
	assert_eq "$_name: number of file:line errors" "$_n_expect" "$_n_got"
	assert_contains "$_name: the summary counts them" "$TMP/err" "$_conf: $_n_expect error(s)"
}

# ---- running proxyd ----

# run_proxyd OUT ERR ARGS...: run proxyd to completion (at most 30 s); sets RC.
run_proxyd() {
	_out=$1 _err=$2
	shift 2
	timeout 30 "$PROXYD" "$@" >"$_out" 2>"$_err" </dev/null
	RC=$?
	if [ $RC -eq 124 ]; then
		fail "proxyd $* did not finish within 30 s" "exit" "$(cat "$_err")"
	fi
}

# run_bg CMD...: for `run_bg CMD ... &`. A background child is a copy of this shell until it
# execs, and carries the EXIT and TERM traps: a kill that arrives in that window would run
# _cleanup in the child (deleting $TMP and stopping the test's processes while the test goes
# on). The child drops the traps first, then becomes CMD.
run_bg() {
	trap - EXIT HUP INT TERM
	exec "$@"
}

# wait_exec PID: return once PID runs its own program, not a copy of this shell (or is gone),
# so that a signal sent to PID afterwards reaches that program. At most 5 s.
wait_exec() {
	_self=$(readlink "/proc/$$/exe")
	_n=50
	while [ $_n -gt 0 ] && [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$_self" ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
}

# start_proxyd LOG ARGS...: start proxyd in the background with stdout and stderr in LOG;
# sets PROXYD_PID. Cleanup stops it (and only it, and others started this way) on exit.
start_proxyd() {
	_log=$1
	shift
	run_bg "$PROXYD" "$@" >"$_log" 2>&1 </dev/null &
	PROXYD_PID=$!
	wait_exec "$PROXYD_PID"
	STARTED_PIDS="$STARTED_PIDS $PROXYD_PID"
}

# track_pid PID: a process this test caused to exist (e.g. a daemon that forked away);
# cleanup stops it too.
track_pid() {
	STARTED_PIDS="$STARTED_PIDS $1"
}

# forget_pid PID: it has exited; its number may be reused by someone else's process, which
# cleanup must not touch.
forget_pid() {
	_keep=
	for _p in $STARTED_PIDS; do
		[ "$_p" = "$1" ] || _keep="$_keep $_p"
	done
	STARTED_PIDS=$_keep
}

# proc_state PID: the one-letter state from /proc (Z for a zombie), empty if gone.
proc_state() {
	sed -n 's/^[0-9]* (.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# alive PID: running (a zombie, exited but not yet reaped, does not count).
alive() {
	_s=$(proc_state "$1")
	[ -n "$_s" ] && [ "$_s" != Z ]
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 if time runs out.
wait_for() {
	_n=$(($1 * 10))
	shift
	while [ $_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}

# wait_for_log SECONDS FILE SUBSTRING [WHAT]: fail unless FILE gets the line in time.
wait_for_log() {
	wait_for "$1" grep -qF -- "$3" "$2" ||
		fail "${4:-log line within $1 s}" "a line containing: $3 (within $1 s)" "$(cat "$2")"
}

# count_lines FILE SUBSTRING: how many lines contain SUBSTRING.
count_lines() {
	grep -cF -- "$2" "$1"
}

# wait_exit SECONDS PID: wait for a child started by start_proxyd to exit; sets RC to its
# exit code. Returns 1 if it is still running when time runs out (RC unset then).
wait_exit() {
	RC=
	_n=$(($1 * 10))
	while alive "$2" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	alive "$2" && return 1
	wait "$2"
	RC=$?
	forget_pid "$2"
	return 0
}

# wait_gone SECONDS PID: for a process that is not our child (a daemon).
wait_gone() {
	wait_for "$1" eval "! kill -0 $2 2>/dev/null" || return 1
	forget_pid "$2"
}

# ---- network ----

# free_port: print a port on 127.0.0.1 that no TCP or UDP socket uses right now, claimed for
# this test so that no other test running at the same time (make check -j) picks it too: the
# check and the bind are apart in time, and two tests drawing the same number would both see
# it free. A claim is a directory under $PORT_CLAIMS (mkdir is atomic) holding the claiming
# test's pid; cleanup drops this test's claims, and a claim whose test is gone (killed) is
# taken over. Ports come from 20000-32767, below Linux's ephemeral range (32768-60999): a
# port the kernel could hand to some outgoing connection between our check and our bind
# would make tests flaky.
PORT_CLAIMS=${TMPDIR:-/tmp}/proxyd-test-ports
claim_port() { # PORT: 0 when this test now holds it
	mkdir -p "$PORT_CLAIMS" 2>/dev/null
	if mkdir "$PORT_CLAIMS/$1" 2>/dev/null; then
		echo $$ >"$PORT_CLAIMS/$1/pid"
		return 0
	fi
	_owner=$(cat "$PORT_CLAIMS/$1/pid" 2>/dev/null)
	if [ -n "$_owner" ] && ! kill -0 "$_owner" 2>/dev/null; then
		echo $$ >"$PORT_CLAIMS/$1/pid" # its test is gone
		return 0
	fi
	return 1
}
release_ports() {
	for _c in "$PORT_CLAIMS"/*/pid; do
		[ -f "$_c" ] && [ "$(cat "$_c" 2>/dev/null)" = "$$" ] && rm -rf "${_c%/pid}"
	done
	return 0
}
free_port() {
	_tries=0
	while [ $_tries -lt 200 ]; do
		_p=$(( ($(od -An -N2 -tu2 /dev/urandom) % 12768) + 20000 ))
		if ! ss -Htuan "sport = :$_p" 2>/dev/null | grep -q . && claim_port "$_p"; then
			echo "$_p"
			return 0
		fi
		_tries=$((_tries + 1))
	done
	fail "free_port: no free port found" "a free port in 20000-32767" "200 busy ports"
}

# ---- facts about the build ----

# The version from the build's config.h, and the ABI from the source header.
package_version() {
	sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h"
}
abi_major() {
	sed -n 's/^#define PROXYD_ABI_MAJOR \([0-9][0-9]*\).*/\1/p' "$top_srcdir/include/proxyd/plugin.h"
}
abi_minor() {
	sed -n 's/^#define PROXYD_ABI_MINOR \([0-9][0-9]*\).*/\1/p' "$top_srcdir/include/proxyd/plugin.h"
}
