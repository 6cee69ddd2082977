#!/bin/sh
# proxyctl status, the client side alone: a missing daemon gives a clear error and exit 1,
# the socket comes from -s, then $PROXYD_ADMIN_SOCKET; -V and --help work. What the daemon
# answers is tested with the daemon itself.
. "$top_srcdir/tests/lib.sh"

[ -x "${PROXYCTL:-}" ] || { echo "ERROR: PROXYCTL=${PROXYCTL:-} is not an executable" >&2; exit 99; }
unset PROXYD_ADMIN_SOCKET

ctl() { # OUT ERR ARGS...: sets RC
	_o=$1 _e=$2
	shift 2
	timeout 20 "$PROXYCTL" "$@" >"$_o" 2>"$_e" </dev/null
	RC=$?
}

step "status -s /nonexistent"
ctl "$TMP/out" "$TMP/err" status -s /nonexistent
assert_exit "status without a daemon" 1 $RC "$TMP/out" "$TMP/err"
assert_eq "the error says what to do" \
	"proxyctl: cannot connect to /nonexistent: No such file or directory (is proxyd running? set admin.socket or use -s)" \
	"$(cat "$TMP/err")"
assert_eq "nothing on stdout" "" "$(cat "$TMP/out")"

step "PROXYD_ADMIN_SOCKET, and -s over it"
PROXYD_ADMIN_SOCKET=$TMP/from-env.sock ctl "$TMP/out" "$TMP/err" status --json
assert_exit "status from env" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "env socket used" "$TMP/err" "cannot connect to $TMP/from-env.sock:"
PROXYD_ADMIN_SOCKET=$TMP/from-env.sock ctl "$TMP/out" "$TMP/err" status -s "$TMP/from-opt.sock"
assert_contains "-s wins" "$TMP/err" "cannot connect to $TMP/from-opt.sock:"

step "a socket path too long for sockaddr_un"
ctl "$TMP/out" "$TMP/err" status -s "/$(printf 'x%.0s' $(seq 1 120))"
assert_exit "long path" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "long path explained" "$TMP/err" "File name too long"

step "a regular file is not a socket"
: >"$TMP/plain"
ctl "$TMP/out" "$TMP/err" status -s "$TMP/plain"
assert_exit "not a socket" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "not a socket explained" "$TMP/err" "Connection refused"

step "-V, --help, a bad command line"
ctl "$TMP/out" "$TMP/err" -V
assert_exit "-V" 0 $RC "$TMP/out" "$TMP/err"
assert_eq "-V first line" "proxyctl $(package_version)" "$(head -n 1 "$TMP/out")"
ctl "$TMP/out" "$TMP/err" --help
assert_exit "--help" 0 $RC "$TMP/out" "$TMP/err"
assert_contains "--help lists status" "$TMP/out" "proxyctl status [--json] [-s SOCKET]"
ctl "$TMP/out" "$TMP/err" status --bogus
assert_exit "unknown option" 2 $RC "$TMP/out" "$TMP/err"
ctl "$TMP/out" "$TMP/err" frobnicate
assert_exit "unknown command" 2 $RC "$TMP/out" "$TMP/err"
assert_contains "unknown command named" "$TMP/err" "unknown command 'frobnicate'"
exit 0
