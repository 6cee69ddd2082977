#!/bin/sh
# A custom command: the URL from its output by url_regex, the secret in its environment only
# (never argv, never a log line); PROXYD_PROVIDER_URL launches nothing; auto with no program on
# PATH is a warning and an idle provider, and with one on PATH picks it and says so.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/provider_lib.sh"

SECRET="s3cr3t-t0ken-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
printf '%s\n' "$SECRET" >"$TMP/token"
cat >"$TMP/tunnel.sh" <<'EOF'
#!/bin/sh
# A stand-in tunnel program: says where it is, shows what it got, then waits.
echo "connecting to $1"
echo "my token is $MY_TOKEN" >&2
tr '\0' ' ' </proc/$$/cmdline >"$2"
echo "tunnel ready: url=http://127.0.0.1:$3/ (local $1)"
exec sleep 300
EOF
chmod +x "$TMP/tunnel.sh"
write_provider_conf "
  command = \"$TMP/tunnel.sh\";
  args = [ \"{local}\", \"$TMP/argv\", \"{port}\" ];
  url_regex = \"url=(http://[^ ]+)\";
  token_file = \"$TMP/token\";
  token_var = \"MY_TOKEN\";
  health_interval = 0;
  on_url = \"echo \\\"\$PROXYD_PROVIDER_URL\\\" > $TMP/hook.url\";"

step "a custom command: its URL, its secret"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/provider.conf" $PLUGIN_DIRS
assert_exit "proxyd -t" 0 "$RC" "$TMP/out" "$TMP/err"
start_provider_proxyd
url="http://127.0.0.1:$LOCAL_PORT/"
wait_for_log 10 "$TMP/proxyd.log" "web: public URL $url" "the URL from the custom command"
assert_matches "its output is logged line by line with the provider's name" "$TMP/proxyd.log" \
	"\[provider-exec\]: web\[[0-9]+\]: connecting to 127.0.0.1:$LOCAL_PORT\$"
assert_contains "the token line is logged redacted" "$TMP/proxyd.log" "my token is [redacted]"
assert_not_contains "the token is in no log line" "$TMP/proxyd.log" "$SECRET"
assert_contains "the log says where the secret went" "$TMP/proxyd.log" "(secret in \$MY_TOKEN)"
wait_for 5 test -s "$TMP/argv" || fail "the program wrote its argv"
assert_not_contains "the token is not in the program's argv" "$TMP/argv" "$SECRET"
assert_eq "the URL is logged once" 1 "$(count_lines "$TMP/proxyd.log" "public URL")"
assert_eq "state file" "$url" "$(cat "$TMP/web.url")"
wait_for 5 test -s "$TMP/hook.url" || fail "on_url ran" "$TMP/hook.url" "$(cat "$TMP/proxyd.log")"
assert_eq "on_url got the URL in PROXYD_PROVIDER_URL" "$url" "$(cat "$TMP/hook.url")"
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM"

step "PROXYD_PROVIDER_URL: nothing is launched, the URL is used"
rm -f "$TMP/argv"
PROXYD_PROVIDER_URL=https://given.example.com/app
export PROXYD_PROVIDER_URL
start_provider_proxyd
unset PROXYD_PROVIDER_URL
wait_for_log 5 "$TMP/proxyd.log" "web: public URL https://given.example.com/app" "the URL from the environment"
assert_contains "says why nothing runs" "$TMP/proxyd.log" "URL given by the environment"
assert_not_contains "nothing launched" "$TMP/proxyd.log" "web: started"
assert_eq "state file has the given URL" "https://given.example.com/app" "$(cat "$TMP/web.url")"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" 2>&1 || fail "status" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "status shows it, with no pid" "$TMP/status.json" '"state":"running","url":"https://given.example.com/app","pid":0'
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM"

step "auto with none of the programs on PATH: a warning, an idle provider, no crash"
mkdir -p "$TMP/empty" "$TMP/bin"
write_provider_conf "preset = \"auto\";"
PROVIDER_PATH="$TMP/empty"
start_provider_proxyd
wait_for_log 5 "$TMP/proxyd.log" "preset auto: none of cloudflared, ngrok, tailscale, bore, ssh (with ssh_host) is on PATH" "the auto warning"
assert_matches "it is a warning" "$TMP/proxyd.log" " warn \[provider-exec\]: web: preset auto: none of"
"$PROXYCTL" status --json -s "$TMP/admin.sock" >"$TMP/status.json" 2>&1 || fail "status" "exit 0" "$(cat "$TMP/status.json")"
assert_contains "status: idle" "$TMP/status.json" '"state":"idle"'
assert_eq "proxyd still runs" yes "$(alive "$PROXYD_PID" && echo yes)"
kill -TERM "$PROXYD_PID"
wait_exit 10 "$PROXYD_PID" || fail "proxyd exits after SIGTERM"
assert_exit "exit code of an idle provider's proxyd" 0 "$RC" "$TMP/proxyd.log"

step "auto picks the first program of the order on PATH (a stand-in bore) and logs which"
cat >"$TMP/bin/bore" <<EOF
#!/bin/sh
echo "bore \$*"
echo "2026-12-01T10:00:00Z INFO bore_cli::client: listening at 127.0.0.1:$LOCAL_PORT"
exec /bin/sleep 300
EOF
chmod +x "$TMP/bin/bore"
PROVIDER_PATH="$TMP/bin"
start_provider_proxyd
wait_for_log 5 "$TMP/proxyd.log" "web: preset auto: using bore" "auto names its pick"
wait_for_log 5 "$TMP/proxyd.log" "web: public URL http://127.0.0.1:$LOCAL_PORT" "bore's URL"
assert_contains "bore's arguments" "$TMP/proxyd.log" "bore local $LOCAL_PORT --local-host 127.0.0.1 --to bore.pub"
exit 0
