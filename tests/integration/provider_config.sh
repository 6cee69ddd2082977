#!/bin/sh
# The provider section under proxyd -t: etc/provider.conf passes; each mistake is reported
# as file:line: message (all of them at once), and a provider's unknown keys are errors.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/provider_lib.sh"

step "etc/provider.conf passes proxyd -t"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$top_srcdir/etc/provider.conf" $PLUGIN_DIRS
assert_exit "proxyd -t etc/provider.conf" 0 "$RC" "$TMP/out" "$TMP/err"

step "bad provider entries: every error with its line"
cat >"$TMP/bad.conf" <<'EOF'
provider = (
  { name = "a"; preset = "cloudflare"; local = "127.0.0.1:3000"; },
  { name = "b"; preset = "ssh"; local = "127.0.0.1:3000"; },
  { name = "c"; command = "x"; url_regex = "no group"; local = "127.0.0.1:3000"; },
  { name = "d"; preset = "custom"; local = "nowhere"; },
  { name = "e"; preset = "cloudflared-named"; local = "127.0.0.1:3000"; },
  { name = "f"; preset = "ngrok"; local = "127.0.0.1:3000"; health_interval = -1; colour = "red"; },
  { name = "a"; preset = "ngrok"; local = "127.0.0.1:3000"; },
  { name = "g"; plugin = "nope"; local = "127.0.0.1:3000"; },
  { name = "h"; preset = "bore"; local = "127.0.0.1:3000"; token_env = "PROXYD_TEST_UNSET_VAR"; },
  { name = "i"; preset = "ssh"; ssh_host = "h"; local = "127.0.0.1:3000"; url_regex = "(x)"; },
  { preset = "ngrok"; local = "127.0.0.1:3000"; }
);
EOF
unset PROXYD_TEST_UNSET_VAR
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/bad.conf" $PLUGIN_DIRS
assert_exit "proxyd -t on bad providers" 1 "$RC" "$TMP/out" "$TMP/err"
f="$TMP/bad.conf"
assert_contains "unknown preset" "$TMP/err" "$f:2: preset 'cloudflare': expected auto, cloudflared, cloudflared-named, ngrok, tailscale, bore, ssh or custom"
assert_contains "ssh without host" "$TMP/err" "$f:3: provider 'b': preset ssh needs 'ssh_host'"
assert_contains "a regex without a group" "$TMP/err" "$f:4: url_regex: needs a group ( ... ) around the URL"
assert_contains "a bad local address" "$TMP/err" "$f:5: local 'nowhere': expected host:port"
assert_contains "cloudflared-named without a token" "$TMP/err" "$f:6: provider 'e': preset cloudflared-named needs the tunnel token (token_env or token_file)"
assert_contains "a bad interval" "$TMP/err" "$f:7: health_interval: expected 0 to 86400 seconds, got -1"
assert_contains "an unknown key" "$TMP/err" "$f:7: unknown key 'provider[5].colour'"
assert_contains "a name used twice" "$TMP/err" "$f:8: provider[6]: name 'a' is used twice"
assert_contains "a missing plugin" "$TMP/err" "$f:9: provider[7]: provider 'nope' is not available: no plugin provider-nope loaded from"
assert_contains "token_env unset" "$TMP/err" "$f:10: token_env: the environment variable PROXYD_TEST_UNSET_VAR is not set"
assert_contains "url_regex only for custom" "$TMP/err" "$f:11: url_regex is for preset custom (preset ssh knows its URL)"
assert_contains "a missing name" "$TMP/err" "$f:12: provider[10]: 'name' is required"
assert_not_contains "the keys of an entry without a name are still read" "$TMP/err" "unknown key 'provider[10].preset'"

step "environment overrides are checked too"
cat >"$TMP/env.conf" <<'EOF'
provider = ( { name = "my-web"; preset = "ngrok"; local = "127.0.0.1:3000"; } );
EOF
PROXYD_PROVIDER_MY_WEB_PRESET=frp PROXYD_PROVIDER_LOCAL=bad \
	timeout 30 "$PROXYD" -t -c "$TMP/env.conf" $PLUGIN_DIRS >"$TMP/out" 2>"$TMP/err"
RC=$?
assert_exit "proxyd -t with bad overrides" 1 "$RC" "$TMP/out" "$TMP/err"
assert_contains "the per-name preset override" "$TMP/err" "$TMP/env.conf:1: PROXYD_PROVIDER_MY_WEB_PRESET: preset 'frp'"
assert_contains "the general local override" "$TMP/err" "$TMP/env.conf:1: PROXYD_PROVIDER_LOCAL: local 'bad': expected host:port"
PROXYD_PROVIDER_URL=ftp://x timeout 30 "$PROXYD" -t -c "$TMP/env.conf" $PLUGIN_DIRS >"$TMP/out" 2>"$TMP/err"
assert_contains "a bad URL override" "$TMP/err" "PROXYD_PROVIDER_URL 'ftp://x': expected http://... or https://..."

step "a provider section alone is a configuration"
cat >"$TMP/only.conf" <<'EOF'
provider = ( { name = "web"; preset = "ngrok"; local = "127.0.0.1:3000"; } );
EOF
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/only.conf" $PLUGIN_DIRS
assert_exit "proxyd -t with only a provider" 0 "$RC" "$TMP/out" "$TMP/err"
exit 0
