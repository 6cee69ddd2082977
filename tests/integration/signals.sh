#!/bin/sh
# A running proxyd and its signals: SIGHUP reloads (and keeps the old configuration when the
# new file is broken), SIGTERM drains and exits 0 within the deadline, a second stop signal
# exits at once; without -f, proxyd detaches and keeps running.
. "$top_srcdir/tests/lib.sh"

conf=$TMP/proxyd.conf
log=$TMP/proxyd.log

# A configuration with no roles: the daemon runs its loop and answers signals.
write_conf() { # LEVEL DRAIN-SECONDS
	cat >"$conf.new" <<EOF
log = { level = "$1"; target = "stderr"; };
drain_timeout = $2;
EOF
	mv "$conf.new" "$conf"
}

# hup_and_wait WHAT SUBSTRING: SIGHUP, then the log must show SUBSTRING once more than before.
hup_and_wait() {
	_before=$(count_lines "$log" "$2")
	kill -HUP "$PROXYD_PID" || fail "$1: send SIGHUP" "proxyd (pid $PROXYD_PID) running" "gone"
	wait_for 10 eval "[ \$(count_lines '$log' '$2') -gt $_before ]" ||
		fail "$1" "one more line containing: $2 (within 10 s)" "$(cat "$log")"
}

step "start proxyd -f"
write_conf info 3
start_proxyd "$log" -f -c "$conf"
wait_for_log 10 "$log" "running (pid $PROXYD_PID)" "proxyd -f starts and says so"

step "SIGHUP with a broken file: reload fails, the old configuration stays"
printf 'log = { level = "debug" \n drain_timeout = ;\n' >"$conf"
hup_and_wait "reload of a broken file is refused" "reload failed"
assert_contains "the broken file's error is logged with its line" "$log" "$conf:2: syntax error"
assert_contains "the operator is told the running configuration stays" "$log" \
	"keeping the running configuration"
alive "$PROXYD_PID" || fail "proxyd keeps running after a failed reload" "running" "$(cat "$log")"

step "SIGHUP with a valid file whose values fail the checks"
write_conf info 99999
hup_and_wait "reload of an invalid value is refused" "reload failed"
assert_contains "the bad value is logged with its line" "$log" \
	"$conf:2: drain_timeout: expected 0 to 3600 seconds, got 99999"
alive "$PROXYD_PID" || fail "proxyd keeps running after a failed reload" "running" "$(cat "$log")"

step "SIGHUP with a valid changed file: reloaded"
write_conf debug 7
hup_and_wait "a valid file is reloaded" "configuration reloaded"
alive "$PROXYD_PID" || fail "proxyd keeps running after a reload" "running" "$(cat "$log")"

step "SIGTERM: drains with the reloaded deadline and exits 0"
kill -TERM "$PROXYD_PID"
# The deadline in the log is the reloaded one (7 s), not the first (3 s): the reload took.
wait_for_log 10 "$log" "draining (deadline 7000 ms" "SIGTERM starts a drain with the reloaded deadline"
wait_exit 9 "$PROXYD_PID" || fail "proxyd exits within the drain deadline after SIGTERM" \
	"exit within 7 s (+2 s)" "$(cat "$log")"
assert_exit "proxyd's exit code after SIGTERM" 0 "$RC" "$log"

step "a failed reload keeps the old deadline"
write_conf info 2
start_proxyd "$log" -f -c "$conf"
wait_for_log 10 "$log" "running (pid $PROXYD_PID)" "proxyd -f starts again"
write_conf info -1
hup_and_wait "reload of a negative drain_timeout is refused" "reload failed"
kill -TERM "$PROXYD_PID"
wait_for_log 10 "$log" "draining (deadline 2000 ms" "the drain uses the deadline still in force"
wait_exit 4 "$PROXYD_PID" || fail "proxyd exits after SIGTERM" "exit within 4 s" "$(cat "$log")"
assert_exit "proxyd's exit code after SIGTERM" 0 "$RC" "$log"

step "SIGTERM then SIGINT: exits promptly"
write_conf info 60
start_proxyd "$log" -f -c "$conf"
wait_for_log 10 "$log" "running (pid $PROXYD_PID)" "proxyd -f starts again"
kill -TERM "$PROXYD_PID"
kill -INT "$PROXYD_PID" 2>/dev/null
wait_exit 3 "$PROXYD_PID" || fail "proxyd exits at once on a second stop signal" \
	"exit within 3 s (the drain deadline is 60 s)" "$(cat "$log")"
# 0 when the loop saw both signals; 130 (killed by SIGINT) only if the second signal came
# after proxyd had left its loop and restored the default action: it was exiting anyway.
case $RC in
0 | 130) ;;
*) fail "proxyd's exit code after SIGTERM and SIGINT" "0 (or 130)" "$RC
$(cat "$log")" ;;
esac

step "without -f: proxyd detaches and keeps running"
require_cmd pgrep ps
# A unique file name: the only way to find the daemon, which writes no pidfile.
dconf=$TMP/daemon-$$-$(date +%s).conf
cat >"$dconf" <<EOF
log = { level = "info"; target = "stderr"; };
drain_timeout = 2;
EOF
timeout 10 "$PROXYD" -c "$dconf" >"$TMP/daemon.out" 2>&1 </dev/null
assert_exit "the parent of a daemonizing proxyd" 0 $? "$TMP/daemon.out"
wait_for 5 pgrep -f -- "$dconf" >/dev/null ||
	fail "a proxyd process remains after the parent exits" "a process running with $dconf" "none"
dpid=$(pgrep -f -- "$dconf")
assert_eq "exactly one daemon process" 1 "$(echo "$dpid" | wc -w)"
track_pid "$dpid"
assert_eq "the daemon runs proxyd" "$(basename "$PROXYD")" "$(ps -o comm= -p "$dpid")"
our_sid=$(ps -o sid= -p $$ | tr -d ' ')
its_sid=$(ps -o sid= -p "$dpid" | tr -d ' ')
[ "$our_sid" != "$its_sid" ] ||
	fail "the daemon left our session (setsid)" "a session other than $our_sid" "$its_sid"
sleep 0.5
kill -0 "$dpid" 2>/dev/null || fail "the daemon keeps running" "pid $dpid alive" "gone"
kill -TERM "$dpid"
wait_gone 4 "$dpid" || fail "the daemon exits on SIGTERM" "gone within 4 s" "pid $dpid still there"
exit 0
