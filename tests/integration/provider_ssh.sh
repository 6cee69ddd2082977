#!/bin/sh
# The ssh preset against a real sshd on loopback: proxyd launches `ssh -N -R 0:...`, takes the
# port sshd allocated from ssh's own output, and the local service answers through it; the URL
# is in the log, the state file, proxyctl status and the on_url command's hands; SIGTERM ends
# ssh and removes the state file.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/provider_lib.sh"
require_cmd python3 curl

start_sshd
start_local_service
cat >"$TMP/hook.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >"$TMP/hook.url"
printf '%s\n' "\$PROXYD_PROVIDER_NAME" >"$TMP/hook.name"
EOF
chmod +x "$TMP/hook.sh"
write_provider_conf "
  preset = \"ssh\";
  ssh_host = \"127.0.0.1\";
  ssh_port = $SSH_PORT;
  ssh_user = \"root\";
  ssh_identity = \"$TMP/id_ed25519\";
  ssh_known_hosts = \"$TMP/known_hosts\";
  ssh_strict_host_key_checking = \"no\";
  health_interval = 1;
  on_url = \"$TMP/hook.sh \\\"\$1\\\"\";"

step "proxyd -t accepts the ssh provider"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/provider.conf" $PLUGIN_DIRS
assert_exit "proxyd -t" 0 "$RC" "$TMP/out" "$TMP/err"

step "ssh is launched and the URL comes from its 'Allocated port' line"
start_provider_proxyd
wait_for_log 20 "$TMP/proxyd.log" "public URL http://127.0.0.1:" "the URL from ssh"
port=$(sed -n 's/.*Allocated port \([0-9]*\) for remote forward.*/\1/p' "$TMP/proxyd.log" | head -n 1)
[ -n "$port" ] || fail "ssh's own 'Allocated port' line is in the log" "Allocated port N" "$(cat "$TMP/proxyd.log")"
url="http://127.0.0.1:$port"
assert_contains "the URL is built from ssh's port" "$TMP/proxyd.log" "web: public URL $url"
assert_contains "the argv is logged, with -R 0" "$TMP/proxyd.log" "ssh -N -R 0:127.0.0.1:$LOCAL_PORT -p$SSH_PORT"

step "the local service answers through sshd's port"
body=$(curl -sS --max-time 5 "$url/hello" 2>&1) || fail "GET $url/hello" "hello from local" "$body"
assert_eq "body through the ssh tunnel" "hello from local" "$body"

step "state file, on_url and proxyctl status have the URL"
wait_for 5 test -s "$TMP/web.url" || fail "state file written" "$TMP/web.url" "$(ls -l "$TMP")"
assert_eq "state file" "$url" "$(cat "$TMP/web.url")"
wait_for 5 test -s "$TMP/hook.name" || fail "on_url ran" "$TMP/hook.url" "$(cat "$TMP/proxyd.log")"
assert_eq "on_url got the URL as \$1" "$url" "$(cat "$TMP/hook.url")"
assert_eq "on_url got the provider's name" "web" "$(cat "$TMP/hook.name")"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" 2>&1 ||
	fail "proxyctl status --json" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "status: role" "$TMP/status.json" '"role":"provider"'
assert_contains "status: the provider with its URL" "$TMP/status.json" \
	"\"name\":\"web\",\"plugin\":\"exec\",\"program\":\"ssh\",\"state\":\"running\",\"url\":\"$url\""
"$PROXYCTL" status -s "$TMP/admin.sock" >"$TMP/status.txt" 2>&1 || fail "proxyctl status" "exit 0" "$(cat "$TMP/status.txt")"
assert_matches "human status row" "$TMP/status.txt" "^  web +ssh +running +[0-9]+ +0 +$url\$"

step "health checks through the URL reach the local service and pass"
wait_for 5 eval "[ \$(count_lines '$TMP/service.log' 'local GET / -> 404') -ge 2 ]" ||
	fail "health checks GET / through the tunnel" "two lines 'local GET / -> 404'" "$(cat "$TMP/service.log")"
assert_not_contains "no failed health check" "$TMP/proxyd.log" "health check failed"

step "SIGTERM: ssh ends, the state file goes, proxyd exits"
ssh_pid=$(sed -n 's/.*"pid":\([0-9]*\),"restarts".*/\1/p' "$TMP/status.json")
[ -n "$ssh_pid" ] && alive "$ssh_pid" || fail "ssh runs with the pid status shows" "a live pid" "'$ssh_pid'"
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM" "exit within 10 s" "$(tail -20 "$TMP/proxyd.log")"
assert_exit "proxyd exit code" 0 "$RC" "$TMP/proxyd.log"
assert_gone "$ssh_pid" "ssh is gone after proxyd's SIGTERM"
assert_contains "proxyd says the provider stopped" "$TMP/proxyd.log" "web: stopped"
[ ! -e "$TMP/web.url" ] || fail "the state file is removed at stop" "no $TMP/web.url" "$(cat "$TMP/web.url")"
exit 0
